"""The dashboards' pages and who may open them: one list, extended by adding a line.

A page file lives in `dashboards/views/` (not `pages/`: see views/__init__.py) and starts
with `require_role(*roles)` from `dashboards.access`, with the same roles as here. Signed-in
viewers see only the pages their role allows; the local demo lists every page (a page the
chosen demo role may not open says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboards.access import ROLES

VIEWS = Path(__file__).resolve().parent / "views"
ALL_ROLES = ROLES
ROW_LEVEL = ("analyst", "admin")
ADMIN = ("admin",)


@dataclass(frozen=True)
class PageSpec:
    file: str  # under dashboards/views/
    title: str
    icon: str
    url_path: str
    roles: tuple[str, ...]
    default: bool = False


PAGES: list[PageSpec] = [
    PageSpec("study.py", "Study view", ":material/bar_chart:", "study", ALL_ROLES, default=True),
    PageSpec("survival.py", "Survival", ":material/show_chart:", "survival", ALL_ROLES),
    PageSpec("local_control.py", "Local control", ":material/target:", "local-control",
             ALL_ROLES),
    PageSpec("toxicity.py", "Toxicity", ":material/healing:", "toxicity", ALL_ROLES),
    PageSpec("timeline.py", "Patient timelines", ":material/timeline:", "timeline", ROW_LEVEL),
    PageSpec("data_quality.py", "Data quality", ":material/fact_check:", "data-quality",
             ALL_ROLES),
    PageSpec("sql.py", "SQL explorer", ":material/terminal:", "sql", ROW_LEVEL),
    PageSpec("cohorts.py", "Saved cohorts", ":material/bookmarks:", "cohorts", ALL_ROLES),
    PageSpec("emulation.py", "Comparisons", ":material/compare_arrows:", "comparisons", ALL_ROLES),
    PageSpec("audit.py", "Audit log", ":material/policy:", "audit", ADMIN),
]


def visible_pages(role: str, *, is_demo: bool) -> list[PageSpec]:
    return [page for page in PAGES if is_demo or role in page.roles]
