"""The canvas widget and its tile cache."""
