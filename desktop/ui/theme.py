"""The dark theme: Fusion style, a dark palette and a small style sheet (Krita/Photoshop-like)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor(61, 142, 240)
WINDOW = QColor(43, 43, 46)
BASE = QColor(30, 30, 32)
CANVAS_BACKGROUND = QColor(34, 34, 36)
TEXT = QColor(220, 220, 222)
DISABLED_TEXT = QColor(120, 120, 124)
MASK_TINT = QColor(255, 64, 96, 110)  # the edit mask shown over the photo
MASK_OUTLINE_LIGHT = QColor(255, 255, 255)  # the mask's edge ("marching ants"): a light line...
MASK_OUTLINE_DARK = QColor(0, 0, 0)  # ...under dark dashes, visible on any photo

# A row of thumbnails to pick from (candidates, a layer's variations): the picked one must read as
# picked, with the accent frame of the theme.
THUMBNAIL_CHOICES_QSS = ("QToolButton { border: 2px solid transparent; border-radius: 4px; padding: 2px; }"
                         "QToolButton:hover { background: #46464c; }"
                         "QToolButton:checked { background: #2f5f9e; border-color: #3d8ef0; }")

_QSS = """
QMainWindow::separator { background: #202022; width: 3px; height: 3px; }
QDockWidget { titlebar-close-icon: none; font-weight: 600; }
QDockWidget::title { background: #333337; padding: 5px 8px; border-bottom: 1px solid #202022; }
QToolBar { background: #2f2f33; border: none; spacing: 2px; padding: 3px; }
QToolBar QToolButton { border-radius: 4px; padding: 4px; }
QToolBar QToolButton:hover { background: #46464c; }
QToolBar QToolButton:checked { background: #3d8ef0; }
QStatusBar { background: #252528; color: #b0b0b4; }
QStatusBar QLabel { padding: 0 8px; }
QListWidget, QTreeWidget, QPlainTextEdit, QTextEdit, QLineEdit {
    border: 1px solid #1c1c1e; border-radius: 3px; }
QListWidget::item { padding: 3px; }
QListWidget::item:selected, QTreeWidget::item:selected { background: #2f5f9e; }
QPushButton { background: #3a3a3f; border: 1px solid #1c1c1e; border-radius: 4px; padding: 4px 10px; }
QPushButton:hover { background: #46464c; }
QPushButton:pressed, QPushButton:checked { background: #3d8ef0; }
QPushButton:disabled { color: #77777b; }
QSlider::groove:horizontal { height: 4px; background: #1c1c1e; border-radius: 2px; }
QSlider::sub-page:horizontal { background: #3d8ef0; border-radius: 2px; }
QSlider::handle:horizontal { background: #dcdcde; width: 12px; margin: -5px 0; border-radius: 6px; }
QGroupBox { border: 1px solid #1c1c1e; border-radius: 4px; margin-top: 16px; padding: 6px 4px 4px 4px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #a0a0a6; }
QToolButton[maskOp="true"] { text-align: left; padding: 3px 6px; border-radius: 4px; }
QToolButton[maskOp="true"]:hover { background: #46464c; }
QMenu { border: 1px solid #1c1c1e; }
QMenu::item:selected { background: #2f5f9e; }
QToolTip { color: #e6e6e8; background: #1e1e20; border: 1px solid #3d8ef0; padding: 3px; }
"""


def dark_palette() -> QPalette:
    """Return the dark palette used with the Fusion style."""
    p = QPalette()
    roles = {
        QPalette.Window: WINDOW,
        QPalette.WindowText: TEXT,
        QPalette.Base: BASE,
        QPalette.AlternateBase: QColor(38, 38, 41),
        QPalette.ToolTipBase: BASE,
        QPalette.ToolTipText: TEXT,
        QPalette.PlaceholderText: DISABLED_TEXT,
        QPalette.Text: TEXT,
        QPalette.Button: QColor(58, 58, 63),
        QPalette.ButtonText: TEXT,
        QPalette.BrightText: QColor(255, 90, 90),
        QPalette.Link: ACCENT,
        QPalette.Highlight: ACCENT,
        QPalette.HighlightedText: QColor(255, 255, 255),
        QPalette.Light: QColor(70, 70, 75),
        QPalette.Midlight: QColor(58, 58, 63),
        QPalette.Mid: QColor(40, 40, 43),
        QPalette.Dark: QColor(26, 26, 28),
        QPalette.Shadow: QColor(10, 10, 10),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, DISABLED_TEXT)
    return p


def apply_dark_theme(app: QApplication) -> None:
    """Give ``app`` the Fusion style, the dark palette and the style sheet."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(_QSS)
