"""Every UI string, one module per page: key -> (English, Simplified Chinese).

aelab.ui.i18n registers all of them when it is imported, so a page's words are there before any page runs;
tests/test_i18n.py checks that every key has both languages.
"""

from aelab.ui.strings import compare, draw_page, explore, learn, sidebar, state, train_page, widgets

TABLES = (compare, draw_page, explore, learn, sidebar, state, train_page, widgets)
