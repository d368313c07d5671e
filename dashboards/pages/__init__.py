"""One file per page, UI only."""
