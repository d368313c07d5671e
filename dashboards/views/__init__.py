"""One file per page, UI only.

Not named `pages/`: Streamlit treats a `pages/` folder next to the main script as the
old directory-based multipage mode and then runs a page file without the router.
"""
