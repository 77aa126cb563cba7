"""The follow-up of warnings (预警整改) and the supervision list (挂牌督办) in the appendix and its workbook.

The workbench keeps them in the study's ledger (:mod:`riskmodel.ledger`) and, when it publishes the
appendix, hands them over as two tables of a pseudo-step ``workbench``
(``arts.table("workbench", "follow_up.csv")`` and ``"supervision.csv"``, as
:class:`riskmodel.workbench.study.WorkbenchStudy` writes them). A study without
ledger entries has neither table, and the document and the workbook are unchanged.

The labels are here, not in the document's ``TEXT`` (so that module imports nothing of this one's
concerns); ``L`` is the document's :class:`~riskmodel.report.appendix.Labels` (area and category
names in the document's language).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskmodel.results import Sheet

FOLLOW_UP_TEXT = {
    "zh": {
        "follow_up": "预警整改跟踪", "supervision": "挂牌督办",
        "follow_up_note": "每条预警的最新处置状态（已确认、已交办、已整改），含交办单位、说明、记录人与记录时间（UTC）；历次记录均保存在台账中。",
        "supervision_note": "列入挂牌督办的地区与指标、目标值及复核日期，按最新数据判断是否达标（“未到期”：尚未达标但未到复核日期）。",
        "area": "地区", "category": "类别", "period": "时期", "status": "状态", "unit": "交办单位", "note": "说明",
        "who": "记录人", "at": "记录时间", "indicator": "指标", "target": "目标", "review": "复核日期",
        "latest": "最新值", "result": "结果", "active": "督办中",
        "statuses": {"acknowledged": "已确认", "assigned": "已交办", "rectified": "已整改", "open": "待处置",
                     "met": "已达标", "not met": "未达标", "not yet due": "未到期", "no data": "无数据"},
        "directions": {"at_most": "不高于", "at_least": "不低于"},
        "yes": "是", "no": "否（已撤销）",
    },
    "en": {
        "follow_up": "Follow-up of warnings", "supervision": "Supervision list",
        "follow_up_note": "Each warning's latest follow-up (acknowledged, assigned, rectified), with the unit, the note, "
                          "who recorded it and when (UTC); every earlier record is kept in the ledger.",
        "supervision_note": "Areas and indicators under supervision, their targets and review dates, checked against the "
                            "latest data ('not yet due': not met, review date not reached).",
        "area": "Area", "category": "Category", "period": "Period", "status": "Status", "unit": "Unit", "note": "Note",
        "who": "Recorded by", "at": "Recorded at", "indicator": "Indicator", "target": "Target", "review": "Review date",
        "latest": "Latest value", "result": "Result", "active": "Active",
        "statuses": {}, "directions": {"at_most": "at most", "at_least": "at least"},
        "yes": "yes", "no": "no (ended)",
    },
}


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)


def _follow_up_rows(arts: Any, L: Any, lang: str) -> tuple[list[str], list[list[str]]] | None:  # noqa: ANN401
    fu = arts.table("workbench", "follow_up.csv")
    if fu is None or fu.empty:
        return None
    F = FOLLOW_UP_TEXT[lang]
    header = [F["area"], F["category"], F["period"], F["status"], F["unit"], F["note"], F["who"], F["at"]]
    rows = [[L.a(r.area_id), L.c(r.category), _text(r.period)[:10], F["statuses"].get(r.status, r.status),
             _text(r.unit), _text(r.note), _text(r.who), _text(r.at)[:16].replace("T", " ")]
            for r in fu.itertuples()]
    return header, rows


def _supervision_rows(arts: Any, L: Any, lang: str) -> tuple[list[str], list[list[Any]]] | None:  # noqa: ANN401
    sup = arts.table("workbench", "supervision.csv")
    if sup is None or sup.empty:
        return None
    F = FOLLOW_UP_TEXT[lang]
    header = [F["area"], F["indicator"], F["target"], F["review"], F["latest"], F["result"], F["active"], F["who"],
              F["note"]]
    rows = []
    for r in sup.itertuples():
        name = _text(getattr(r, "indicator_name", "")) or r.indicator
        if name == r.indicator:  # an incident category (an index node has its own name)
            name = L.c(r.indicator)
        rows.append([L.a(r.area_id), name, f"{F['directions'].get(r.direction, r.direction)} {r.target:g}",
                     _text(r.review_date)[:10], r.latest_value, F["statuses"].get(r.status, r.status),
                     F["yes"] if bool(r.active) else F["no"], _text(r.who), _text(r.note)])
    return header, rows


def follow_up_sections(arts: Any, L: Any, lang: str) -> list[dict]:  # noqa: ANN401 - StudyOutputs, Labels
    """The document's sections (the dicts ``render_html`` gives its template), none without ledger tables."""
    F = FOLLOW_UP_TEXT[lang]
    out = []
    fu = _follow_up_rows(arts, L, lang)
    if fu is not None:
        out.append({"id": "follow_up", "title": F["follow_up"], "note": F["follow_up_note"],
                    "tables": [{"title": "", "header": fu[0], "rows": fu[1]}]})
    sup = _supervision_rows(arts, L, lang)
    if sup is not None:
        rows = [[*r[:4], "–" if pd.isna(r[4]) else f"{r[4]:.4g}", *r[5:]] for r in sup[1]]
        out.append({"id": "supervision", "title": F["supervision"], "note": F["supervision_note"],
                    "tables": [{"title": "", "header": sup[0], "rows": rows}]})
    return out


def follow_up_sheets(arts: Any, L: Any, lang: str) -> list[Sheet]:  # noqa: ANN401 - StudyOutputs, Labels
    """The workbook's sheets of the same tables (the latest value a number), none without ledger tables."""
    F = FOLLOW_UP_TEXT[lang]
    out = []
    fu = _follow_up_rows(arts, L, lang)
    if fu is not None:
        out.append(Sheet(F["follow_up"], pd.DataFrame(fu[1], columns=fu[0]), {F["note"]: "wrap"},
                         title=F["follow_up"], notes=[F["follow_up_note"]]))
    sup = _supervision_rows(arts, L, lang)
    if sup is not None:
        out.append(Sheet(F["supervision"], pd.DataFrame(sup[1], columns=sup[0]), {F["note"]: "wrap"},
                         title=F["supervision"], notes=[F["supervision_note"]]))
    return out
