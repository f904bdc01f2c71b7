"""Canvas tools: mask brush/eraser, box/ellipse mask, SAM click-to-select."""
