"""The workbench's web layer: ``create_app(study, ledger) -> Flask`` (``riskmodel serve``).

Why Flask with server-rendered Jinja2 pages and one small hand-written script
(``static/workbench.js``, ``static/ahp.js``), and not Panel, Streamlit, Dash or a
JavaScript framework:

* it is a committee tool with a few users on one machine (or a small team
  behind a password): a request per change is fast enough (ranks re-aggregate
  in milliseconds), and no client-side state needs a framework;
* no build step and nothing from a CDN: every script, style and the font stack
  are files in ``workbench/static`` (the CJK font is the system's Noto Sans CJK
  named in the CSS font stack; no web font is downloaded or vendored), so it
  works with no internet;
* Flask is already installed as the team tracking server's stack (MLflow's
  server is Flask), its password check and lockout are reused here
  (:mod:`riskmodel.server.lockout`), and its test client tests every page
  without a browser.

Pages (Chinese and English; every label from :data:`LABELS`): index
calibration for the expert committee (pairwise judgements on Saaty's scale
with the consistency ratio computed while typing, committee and effective
weights, each expert's ranking, direct weight edits with new and old ranks, a
bump chart, the map, rank intervals and "what would it take"; weight sets
saved, named, versioned and exported as the study's weight config), next
period's forecasts and this period's warnings (map, table, series charts), a
street's detail page, the follow-up of warnings and the supervised list, and
publishing the appendix.

Security: every POST carries a per-session CSRF token (checked here, no extra
dependency); every input is validated (400 with a message, never a traceback);
with ``auth`` (:class:`BasicAuth`) every request needs HTTP basic auth with a
password hash from a private file or the environment, wrong passwords are
locked out like the team server's; without it the workbench only binds to the
loopback address (``riskmodel serve`` refuses any other), and the user is the
operating-system user. Counts below the appendix's suppression threshold come
from the study service already replaced by ``"<N"``.

Flask is imported inside :func:`create_app` and the functions that answer
requests: ``riskmodel serve --help`` imports no Flask.
"""

from __future__ import annotations

import getpass
import hmac
import html
import math
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskmodel.data.boundaries import read_boundaries
from riskmodel.errors import InputError, Problem
from riskmodel.maps import NO_DATA_COLOUR, map_colours, svg_map
from riskmodel.server.lockout import Lockout, LockoutPolicy, limited

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask

HERE = Path(__file__).resolve().parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")
USERS_ENV = "RISKMODEL_WORKBENCH_USERS"
USERS_FILE_ENV = "RISKMODEL_WORKBENCH_USERS_FILE"
SAATY_VALUES: list[tuple[str, float]] = [
    *[(f"1/{k}", 1.0 / k) for k in range(9, 1, -1)], ("1", 1.0), *[(str(k), float(k)) for k in range(2, 10)]]
"""Saaty's scale as (label, value), 1/9 .. 9."""
FOLLOW_UP_STATUSES = ("acknowledged", "assigned", "rectified")
AUTH_HELP = (
    "to serve on another address, configure authentication: a private file (chmod 600) of lines "
    "'USER:HASH' named by --users FILE (or $RISKMODEL_WORKBENCH_USERS_FILE), or the same lines in "
    "$RISKMODEL_WORKBENCH_USERS; make each HASH with "
    "python -c \"import getpass; from werkzeug.security import generate_password_hash as h; "
    "print(h(getpass.getpass()))\" (no default passwords; 5 wrong passwords lock a user out for 15 minutes); "
    "and put a TLS proxy in front"
)

# --------------------------------------------------------------------------------------------
# The one translation table: key -> (Chinese, English)
# --------------------------------------------------------------------------------------------
LABELS: dict[str, tuple[str, str]] = {
    "app_title": ("平安指数工作台", "Ping'an workbench"),
    "calibration": ("指数校准", "Index calibration"),
    "forecasts": ("预测", "Forecasts"),
    "warnings": ("预警", "Warnings"),
    "followup": ("整改与督办", "Follow-up"),
    "publish": ("发布", "Publishing"),
    "simulated": ("模拟数据（样例城市），非真实统计", "Simulated data (sample city), not real statistics"),
    "user": ("用户", "User"),
    "language": ("语言", "Language"),
    "study": ("研究", "Study"),
    "period": ("期", "Period"),
    "judgements": ("两两比较判断", "Pairwise judgements"),
    "judgements_help": ("每位专家对每组指标两两比较（Saaty 1–9 标度）：值 > 1 表示左边更重要。",
                        "Each expert compares each group's members pairwise on Saaty's 1-9 scale: "
                        "a value above 1 means the left one is more important."),
    "expert": ("专家", "Expert"),
    "group": ("指标组", "Group"),
    "open_group": ("打开", "Open"),
    "compare_with": ("相对于", "compared with"),
    "cr": ("一致性比率 CR", "Consistency ratio CR"),
    "cr_browser": ("浏览器计算", "in the browser"),
    "cr_server": ("服务器（保存后）", "server (after saving)"),
    "cr_ok": ("可接受（CR < 0.1）", "acceptable (CR < 0.1)"),
    "cr_bad": ("不可接受（CR ≥ 0.1）：请重新考虑", "not acceptable (CR >= 0.1): revisit"),
    "revisit": ("建议重新考虑的判断", "Judgement to revisit"),
    "implied": ("其他判断隐含", "the others imply"),
    "nearest_saaty": ("最接近的 Saaty 值", "nearest Saaty value"),
    "save_judgements": ("保存判断", "Save judgements"),
    "saved_version": ("已保存，版本", "Saved, version"),
    "committee": ("专家组权重", "Committee weights"),
    "committee_scheme": ("专家组", "committee"),
    "aggregation": ("汇总方法", "Aggregation"),
    "AIJ": ("判断几何平均（AIJ）", "geometric mean of judgements (AIJ)"),
    "AIP": ("权重几何平均（AIP）", "geometric mean of priorities (AIP)"),
    "show": ("显示", "Show"),
    "no_judgements": ("尚无保存的判断。", "No judgements saved yet."),
    "consistency_table": ("各专家一致性", "Consistency per expert"),
    "effective": ("有效权重", "Effective weights"),
    "within_parent": ("组内权重", "Within group"),
    "expert_rankings": ("各专家权重下的排名", "Ranking under each expert's weights"),
    "shift": ("与专家组相差", "Shift vs committee"),
    "weights_edit": ("直接修改权重", "Edit weights directly"),
    "weights_help": ("修改任一权重，排名、等级、位次变化图和地图立即更新（组内自动归一）。",
                     "Change any weight: ranks, grades, the bump chart and the map update at once "
                     "(normalised within each group)."),
    "use_committee": ("采用专家组权重", "Use committee weights"),
    "reset": ("恢复当前权重", "Reset to current weights"),
    "code": ("代码", "Code"),
    "name": ("名称", "Name"),
    "weight": ("权重", "Weight"),
    "level": ("层级", "Level"),
    "area": ("区域", "Area"),
    "score": ("得分", "Score"),
    "rank": ("排名", "Rank"),
    "grade": ("等级", "Grade"),
    "rank_before": ("原排名", "Rank before"),
    "grade_before": ("原等级", "Grade before"),
    "rank_change": ("位次变化", "Rank change"),
    "new_ranks": ("新旧排名与等级", "New and old ranks and grades"),
    "bump": ("位次变化图", "Bump chart"),
    "map": ("地图", "Map"),
    "map_score": ("地图：指数得分", "Map: index score"),
    "boundaries_simulated": ("区域边界为模拟（样例城市），仅示意位置。",
                             "The area boundaries are simulated (sample city): positions are indicative only."),
    "no_boundaries": ("本研究没有区域边界文件：示意图（每个区域一格）。",
                      "This study has no area boundaries: a schematic map (one tile per area)."),
    "intervals": ("排名区间（不确定性分析）", "Rank intervals (uncertainty analysis)"),
    "compute_intervals": ("计算排名区间", "Compute rank intervals"),
    "median": ("中位数", "Median"),
    "q05": ("5%", "5%"),
    "q95": ("95%", "95%"),
    "nominal": ("名义", "Nominal"),
    "what_take": ("需要怎样的改变", "What would it take"),
    "what_take_help": ("交换两个街道排名所需的最小权重变化。",
                       "The smallest weight change that swaps two chosen streets."),
    "first_area": ("街道 A", "Street A"),
    "second_area": ("街道 B", "Street B"),
    "compute": ("计算", "Compute"),
    "change": ("变化", "Change"),
    "new": ("新", "New"),
    "weight_sets": ("权重方案", "Weight sets"),
    "set_name": ("方案名称", "Name"),
    "version": ("版本", "Version"),
    "method": ("方法", "Method"),
    "note": ("备注", "Note"),
    "who": ("录入人", "Who"),
    "when": ("时间", "When"),
    "save_set": ("保存当前权重为方案", "Save the weights shown as a set"),
    "use_set": ("设为当前", "Make current"),
    "export": ("导出配置", "Export config"),
    "export_judgements": ("导出全部判断（CSV）", "Export all judgements (CSV)"),
    "direct": ("直接修改", "direct edit"),
    "forecasts_title": ("下期预测（含区间）", "Next period's forecasts (with intervals)"),
    "category": ("类别", "Category"),
    "mean": ("预测值", "Forecast"),
    "interval80": ("80% 区间", "80% interval"),
    "interval95": ("95% 区间", "95% interval"),
    "last": ("最近观测", "Last observed"),
    "map_forecast_change": ("地图：预测变化（预测 − 最近观测）", "Map: forecast change (forecast - last)"),
    "all_categories": ("全部类别合计", "All categories"),
    "warnings_title": ("本期预警", "This period's warnings"),
    "count": ("计数", "Count"),
    "expected": ("期望", "Expected"),
    "threshold": ("阈值", "Threshold"),
    "severity": ("严重程度", "Severity"),
    "status": ("状态", "Status"),
    "no_warnings": ("本期无预警。", "No warnings this period."),
    "map_warnings": ("地图：各区域预警数", "Map: warnings per area"),
    "series": ("序列", "Series"),
    "alarm": ("报警", "Alarm"),
    "area_detail": ("区域详情", "Area detail"),
    "components": ("指数构成", "Index components"),
    "claims": ("成效评估", "Claim results"),
    "supervision": ("挂牌督办", "Supervised list"),
    "followup_title": ("预警整改", "Follow-up of warnings"),
    "action": ("操作", "Action"),
    "acknowledged": ("已确认", "acknowledged"),
    "assigned": ("已交办", "assigned"),
    "rectified": ("已整改", "rectified"),
    "open": ("未处理", "open"),
    "unit": ("责任单位", "Unit"),
    "submit": ("提交", "Submit"),
    "history": ("处理记录", "History"),
    "supervise_add": ("加入督办", "Put on the supervised list"),
    "indicator": ("指标", "Indicator"),
    "target": ("目标值", "Target"),
    "direction": ("方向", "Direction"),
    "at_most": ("不高于", "at most"),
    "at_least": ("不低于", "at least"),
    "review_date": ("复核日期", "Review date"),
    "latest_value": ("最新值", "Latest value"),
    "met": ("达标", "met"),
    "not met": ("未达标", "not met"),
    "not yet due": ("未到期", "not yet due"),
    "end_supervision": ("结束督办", "End supervision"),
    "publish_title": ("生成并下载附录", "Render and download the appendix"),
    "publish_help": ("按当前状态（已保存的权重、整改与督办表）生成附录。",
                     "Renders the appendix from the current state (weights as saved, follow-up and supervision)."),
    "format": ("格式", "Format"),
    "download": ("生成并下载", "Render and download"),
    "levels": ("层级", "Level"),
    "city": ("市", "city"),
    "district": ("区", "district"),
    "street": ("街道（镇）", "street (town)"),
    "grid": ("网格", "grid"),
    "error": ("错误", "Error"),
    "not_found": ("未找到", "Not found"),
    "back": ("返回", "Back"),
    "none": ("无", "none"),
    "no_data": ("无数据", "no data"),
    "ranks_updated": ("排名已更新", "Ranks updated"),
    "working": ("计算中…", "Working..."),
    "saved": ("已保存", "Saved"),
    "notes": ("说明", "Notes"),
    "legend": ("图例", "Legend"),
}


def label(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` ("zh" or "en"); the key itself when it is not in the table."""
    zh, en = LABELS.get(key, (key, key))
    return zh if lang == "zh" else en


# --------------------------------------------------------------------------------------------
# Authentication (HTTP basic, password hashes, lockout: the team server's approach)
# --------------------------------------------------------------------------------------------
@dataclass
class BasicAuth:
    """Users and their password hashes (werkzeug's ``scrypt:``/``pbkdf2:`` format), with a lockout.

    Build it with :meth:`load` (a private file or the environment); there are no default users.
    """

    users: dict[str, str]
    policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    lockout: Lockout = field(init=False)

    def __post_init__(self) -> None:
        if not self.users:
            raise InputError(Problem("workbench authentication: no users configured"))
        self.lockout = Lockout(self.policy.checked())

    @classmethod
    def parse(cls, text: str, source: str, policy: LockoutPolicy | None = None) -> BasicAuth:
        """Users from lines ``USER:HASH`` (blank lines and ``#`` comments ignored)."""
        users: dict[str, str] = {}
        problems = []
        for i, raw in enumerate(re.split(r"[\r\n]+|\s+(?=[^\s:]+:(?:scrypt|pbkdf2):)", text)):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, hashed = line.partition(":")
            if not sep or not user or not re.match(r"^(scrypt|pbkdf2):", hashed):
                problems.append(Problem(f"{source}: entry {i + 1} is not USER:HASH with a werkzeug password hash "
                                        "(scrypt:... or pbkdf2:...); plain passwords are refused"))
                continue
            users[user] = hashed
        if problems:
            raise InputError(problems)
        return cls(users, policy or LockoutPolicy())

    @classmethod
    def load(cls, users_file: str | Path | None = None, environ: Mapping[str, str] | None = None,
             policy: LockoutPolicy | None = None) -> BasicAuth | None:
        """The users from ``users_file`` (or ``$RISKMODEL_WORKBENCH_USERS_FILE``), else from
        ``$RISKMODEL_WORKBENCH_USERS``; None when neither is set. The file must be private
        (no permission for group or others), like the team server's config."""
        env = os.environ if environ is None else environ
        path = users_file or env.get(USERS_FILE_ENV)
        if path:
            p = Path(path)
            if not p.is_file():
                raise InputError(Problem(f"{p}: users file not found", source=str(p)))
            if os.name == "posix" and stat.S_IMODE(p.stat().st_mode) & 0o077:
                raise InputError(Problem(f"{p}: the users file must be private (chmod 600 {p})", source=str(p)))
            return cls.parse(p.read_text(encoding="utf-8"), str(p), policy)
        text = env.get(USERS_ENV)
        if text:
            return cls.parse(text, f"${USERS_ENV}", policy)
        return None

    def check(self) -> Any:  # noqa: ANN401 - a werkzeug Authorization or a 401 response
        """Check the request's basic-auth credentials (in a Flask request context)."""
        from flask import make_response, request
        from werkzeug.security import check_password_hash

        auth = request.authorization
        hashed = self.users.get(auth.username or "") if auth is not None else None
        if auth is not None and hashed is not None and check_password_hash(hashed, auth.password or ""):
            return auth
        resp = make_response("Authentication required.\n", 401)
        resp.headers["WWW-Authenticate"] = 'Basic realm="riskmodel workbench", charset="UTF-8"'
        return resp


def refuse_unsafe_host(host: str, auth: BasicAuth | None) -> None:
    """InputError (exit 2) when ``host`` is not a loopback address and no authentication is configured."""
    if host in LOOPBACK or auth is not None:
        return
    raise InputError(Problem(f"--host {host}: refused without authentication; {AUTH_HELP}"))


# --------------------------------------------------------------------------------------------
# Charts and maps as inline SVG (no script)
# --------------------------------------------------------------------------------------------
def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


PALETTE = ["#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#35978f", "#c51b7d", "#4d4d4d"]


def bump_svg(long: Any, *, names: Mapping[str, str] | None = None, width: int = 520,  # noqa: ANN401 - a DataFrame
             row_height: int = 18, highlight: Iterable[str] = (), max_lines: int = 40, lang: str = "zh") -> str:
    """A bump chart: one column per scheme (in order of appearance), one line per area through its ranks.

    The rank r of n is drawn at ``y = 28 + (r - 0.5) * row_height`` (pixels) with n rows; with more
    than ``max_lines`` areas only the ``max_lines`` whose rank changes most (first to last scheme)
    are drawn, on a compressed axis of ``max_lines`` rows, and a caption says so.

    Parameters
    ----------
    long : DataFrame with columns area_id, scheme, rank (1 = first)
    names : area_id -> label shown at both ends
    highlight : area ids drawn in colour (the others grey; default: those whose rank changes)
    """
    schemes = list(dict.fromkeys(long["scheme"].astype(str)))
    areas = list(dict.fromkeys(long["area_id"].astype(str)))
    ranks = dict(zip(zip(long["area_id"].astype(str).tolist(), long["scheme"].astype(str).tolist(), strict=True),
                     long["rank"].astype(float).tolist(), strict=True))
    n = max(1, len(areas))
    caption = ""
    if n > max_lines:
        first, last = schemes[0], schemes[-1]
        moved = sorted(areas, key=lambda a: -abs(ranks.get((a, last), 0) - ranks.get((a, first), 0)))
        areas = moved[:max_lines]
        caption = (f"仅显示位次变化最大的 {max_lines} 个区域（共 {n} 个）" if lang == "zh" else
                   f"the {max_lines} areas whose rank changes most (of {n})")
    scale = row_height * min(n, max_lines) / n
    names = names or {}
    hl = set(highlight)
    left, right, top = 150, 150, 28
    height = top + min(n, max_lines) * row_height + 10 + (16 if caption else 0)
    xs = [left + (width - left - right) * (k / max(1, len(schemes) - 1)) for k in range(len(schemes))]
    if len(schemes) == 1:
        xs = [width / 2]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bump" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img">']
    for x, s in zip(xs, schemes, strict=True):
        parts.append(f'<text x="{x:.1f}" y="14" text-anchor="middle" class="axis">{_e(s)}</text>')
    if caption:
        parts.append(f'<text x="{width / 2:.1f}" y="{height - 4}" text-anchor="middle" class="tick">{_e(caption)}</text>')

    def y(rank: float) -> float:
        return top + (rank - 0.5) * scale

    colour_i = 0
    for a in areas:
        pts = [(x, y(ranks[(a, s)])) for x, s in zip(xs, schemes, strict=True) if (a, s) in ranks]
        if not pts:
            continue
        moved = len({round(p[1]) for p in pts}) > 1
        if a in hl or (not hl and moved):
            colour = PALETTE[colour_i % len(PALETTE)]
            colour_i += 1
            w = 2.2
        else:
            colour, w = "#bbbbbb", 1.2
        label_ = names.get(a, a)
        path = " ".join(f"{'M' if k == 0 else 'L'}{px:.1f},{py:.1f}" for k, (px, py) in enumerate(pts))
        parts.append(f'<g data-area-id="{_e(a)}"><title>{_e(label_)}</title>'
                     f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{w}"/>')
        for px, py in pts:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        (x0, y0), (x1, y1) = pts[0], pts[-1]
        parts.append(f'<text x="{x0 - 6:.1f}" y="{y0 + 4:.1f}" text-anchor="end">'
                     f'{int(ranks[(a, schemes[0])]) if (a, schemes[0]) in ranks else ""} {_e(label_)}</text>')
        if len(pts) > 1:
            parts.append(f'<text x="{x1 + 6:.1f}" y="{y1 + 4:.1f}">{_e(label_)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(frame: Any, *, lines: Mapping[str, str], width: int = 560, height: int = 180,  # noqa: ANN401
                   alarm: str | None = "alarm", labels: Mapping[str, str] | None = None, title: str = "") -> str:
    """A line chart of ``frame[period]`` against each column of ``lines`` (column -> colour);
    rows with ``frame[alarm]`` true get a red dot; non-numbers (e.g. suppressed "<3") are gaps."""
    labels = labels or {}
    periods = [str(p)[:10] for p in frame["period"]]
    n = len(periods)
    vals: dict[str, list[float | None]] = {}
    for col in lines:
        if col not in frame:
            continue
        vs: list[float | None] = []
        for v in frame[col]:
            try:
                f = float(v)
            except (TypeError, ValueError):
                f = math.nan
            vs.append(f if math.isfinite(f) else None)
        vals[col] = vs
    finite = [v for vs in vals.values() for v in vs if v is not None]
    lo, hi = 0.0, (max(finite) if finite else 1.0) or 1.0
    left, right, top, bottom = 40, 10, 22, 24
    pw, ph = width - left - right, height - top - bottom

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (pw * i / max(1, n - 1))
        return x, top + ph * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img">']
    if title:
        parts.append(f'<text x="{left}" y="14" class="axis">{_e(title)}</text>')
    for frac in (0, 0.5, 1):
        yv = lo + (hi - lo) * frac
        _, yy = xy(0, yv)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end" class="tick">{yv:.3g}</text>')
    if n:
        parts.append(f'<text x="{left}" y="{height - 6}" class="tick">{_e(periods[0])}</text>'
                     f'<text x="{width - right}" y="{height - 6}" text-anchor="end" class="tick">{_e(periods[-1])}</text>')
    for k, (col, colour) in enumerate(lines.items()):
        if col not in vals:
            continue
        segs, cur = [], []
        for i, v in enumerate(vals[col]):
            if v is None:
                if cur:
                    segs.append(cur)
                cur = []
            else:
                cur.append(xy(i, v))
        if cur:
            segs.append(cur)
        dash = ' stroke-dasharray="5,3"' if col == "threshold" else ""
        for seg in segs:
            d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(seg))
            parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>')
        lx = left + 8 + k * 110
        parts.append(f'<line x1="{lx + 150}" x2="{lx + 168}" y1="10" y2="10" stroke="{colour}" stroke-width="2"{dash}/>'
                     f'<text x="{lx + 172}" y="14" class="tick">{_e(labels.get(col, col))}</text>')
    if alarm and alarm in frame and "count" in vals:
        for i, (a, v) in enumerate(zip(frame[alarm], vals["count"], strict=True)):
            if bool(a) and v is not None:
                x, y = xy(i, v)
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#d7191c"><title>{_e(periods[i])}: '
                             f'{v:g}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def tile_map_svg(area_ids: list[str], fills: Mapping[str, str], *, labels: Mapping[str, str] | None = None,
                 width: int = 640, selected: str | None = None) -> str:
    """A schematic map for a study without boundaries: one labelled tile per area (clickable like svg_map)."""
    labels = labels or {}
    cols = max(1, min(6 if len(area_ids) <= 100 else 40, math.ceil(math.sqrt(len(area_ids) or 1))))
    tw = (width - 10) / cols
    th = 46 if len(area_ids) <= 100 else tw
    rows = math.ceil(len(area_ids) / cols) if area_ids else 1
    height = int(rows * th + 10)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}">']
    for i, a in enumerate(area_ids):
        x, y = 5 + (i % cols) * tw, 5 + (i // cols) * th
        sw = "2.5" if a == selected else "0.6"
        parts.append(f'<path data-area-id="{_e(a)}" d="M{x:.1f},{y:.1f} h{tw - 4:.1f} v{th - 4:.1f} h{-(tw - 4):.1f} Z" '
                     f'fill="{fills.get(a, NO_DATA_COLOUR)}" stroke="#555" stroke-width="{sw}">'
                     f'<title>{_e(labels.get(a, a))}</title></path>')
        if len(area_ids) <= 100:  # names on the tiles; beyond, the tooltips
            parts.append(f'<text x="{x + (tw - 4) / 2:.1f}" y="{y + th / 2:.1f}" text-anchor="middle" class="tile">'
                         f'{_e(labels.get(a, a))[:10]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def ranks_table_html(r: Any, names: Mapping[str, str], lang: str, *, area_url: str = "/area") -> str:  # noqa: ANN401
    """The new ranks and grades beside the old ones (``ranks_for``'s frame) as an HTML table.

    Built here rather than with a template: with 1,000 areas it is the bulk of a weight change's
    answer, and a plain loop is several times faster than Jinja's per-cell lookups.
    """
    head = "".join(f"<th>{_e(label(k, lang))}</th>" for k in
                   ("rank", "area", "score", "grade", "rank_before", "grade_before", "rank_change"))
    out = [f'<table class="data" id="ranks-table"><thead><tr>{head}</tr></thead><tbody>']

    def grade(v: object) -> str:
        return "" if v is None or v != v else _e(v)

    cols = zip(r["area_id"].astype(str), r["rank"], r["score"], r["grade"] if "grade" in r else [None] * len(r),
               r["rank_before"], r["grade_before"] if "grade_before" in r else [None] * len(r), r["rank_change"],
               strict=True)
    for a, rank, score, gr, rb, gb, ch in cols:
        moved = ch == ch and ch != 0
        arrow = "–" if not moved else (f"▲{int(ch)}" if ch > 0 else f"▼{int(-ch)}")
        aid = _e(a)
        cls = ' class="moved"' if moved else ""
        out.append(f'<tr data-area-id="{aid}"{cls}><td class="num rank">{int(rank)}</td>'
                   f'<td><a href="{area_url}/{aid}">{_e(names.get(a, a))}</a></td><td class="num">{score:.2f}</td>'
                   f'<td>{grade(gr)}</td><td class="num">{int(rb)}</td><td>{grade(gb)}</td>'
                   f'<td class="num change">{arrow}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Input validation helpers
# --------------------------------------------------------------------------------------------
def _bad(message: str, column: str | None = None) -> InputError:
    return InputError(Problem(message, column=column))


def saaty_value(raw: object, where: str) -> float:
    """A judgement on Saaty's scale from "3", "1/3", 3 or 0.3333 (within 1 %); else InputError."""
    try:
        if isinstance(raw, str) and "/" in raw:
            num, den = raw.split("/", 1)
            v = float(num) / float(den)
        else:
            v = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        raise _bad(f"{where}: {raw!r} is not a number on Saaty's scale (1/9 .. 9)") from None
    for _, s in SAATY_VALUES:
        if math.isfinite(v) and abs(v / s - 1) < 0.01:
            return s
    raise _bad(f"{where}: {raw!r} is not on Saaty's scale (1/9, 1/8, ..., 1, 2, ..., 9)")


def weights_from(raw: object, known: Iterable[str]) -> dict[str, float]:
    """Weights ``{code: number >= 0}`` with known codes only; else InputError naming each problem."""
    if not isinstance(raw, Mapping) or not raw:
        raise _bad("weights: expected an object {code: weight}")
    known = set(known)
    problems, out = [], {}
    for code, v in raw.items():
        if code not in known:
            problems.append(Problem(f"weights: unknown code {str(code)[:60]!r}"))
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            problems.append(Problem(f"weights: {code} = {str(v)[:30]!r} is not a number"))
            continue
        if not math.isfinite(f) or f < 0:
            problems.append(Problem(f"weights: {code} = {f:g} must be a finite number >= 0"))
            continue
        out[str(code)] = f
    if problems:
        raise InputError(problems)
    return out


def _text(raw: object, what: str, *, required: bool = True, max_len: int = 200) -> str:
    s = "" if raw is None else str(raw).strip()
    if required and not s:
        raise _bad(f"{what}: required")
    if len(s) > max_len:
        raise _bad(f"{what}: at most {max_len} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in s):
        raise _bad(f"{what}: control characters are not allowed")
    return s


def _message(exc: InputError) -> str:
    probs = getattr(exc, "problems", None)
    if probs:
        return "; ".join(getattr(p, "message", str(p)) for p in probs)
    return str(exc)


# --------------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------------
class _Views:
    """What the pages compute from the study (no Flask here); ``lock`` serialises study calls."""

    def __init__(self, study: Any, ledger: Any) -> None:  # noqa: ANN401
        self.study = study
        self.ledger = ledger
        self.lock = threading.RLock()
        self._geoms: dict[str, Any] | None = None
        self._geoms_loaded = False
        self._names: dict[tuple[str, str], dict[str, str]] = {}
        self.notes: list[str] = []
        self.simulated_boundaries = False
        self.default_lang = self._study_lang()

    def _study_lang(self) -> str:
        """The study's language: ``study.lang``, else the first of its config's ``[steps.appendix] langs``;
        Chinese when neither says."""
        lang = getattr(self.study, "lang", None)
        if lang in ("zh", "en"):
            return str(lang)
        cfg = getattr(self.study, "config_path", None)
        if cfg is not None and Path(cfg).is_file():
            import tomllib

            try:
                langs = tomllib.loads(Path(cfg).read_text(encoding="utf-8"))["steps"]["appendix"]["langs"]
            except (KeyError, TypeError, tomllib.TOMLDecodeError):
                langs = None
            if isinstance(langs, list) and langs and langs[0] in ("zh", "en"):
                return str(langs[0])
        return "zh"

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        with self.lock:
            return fn(*args, **kwargs)

    # ---- areas and names
    def areas(self) -> Any:  # noqa: ANN401
        return self.call(self.study.areas)

    def names(self, lang: str) -> dict[str, str]:
        """area_id -> name in ``lang`` (the areas do not change while the server runs: cached)."""
        key = ("areas", lang)
        if key not in self._names:
            a = self.areas()
            col = "name" if lang == "zh" or "name_en" not in a else "name_en"
            self._names[key] = {str(i): str(n if n == n and n else i) for i, n in zip(a["area_id"], a[col], strict=True)}
        return self._names[key]

    def node_names(self, lang: str) -> dict[str, str]:
        """index code -> name in ``lang`` (cached, as the spec's names do not change)."""
        key = ("nodes", lang)
        if key not in self._names:
            t = self.call(self.study.index_tree)
            col = "name" if lang == "zh" or "name_en" not in t else "name_en"
            self._names[key] = {str(c): str(n if n == n and n else c) for c, n in zip(t["code"], t[col], strict=True)}
        return self._names[key]

    # ---- maps
    def geometries(self) -> dict[str, Any] | None:
        """area_id -> polygon in metres: the study's boundaries (``study.boundaries``, else the file its
        config names in ``[data] boundaries``), or None when the study has none."""
        if not self._geoms_loaded:
            self._geoms_loaded = True
            b = getattr(self.study, "boundaries", None)
            b = b() if callable(b) else b
            if b is None:
                b = self._boundaries_from_config()
            self._geoms = dict(b.geometries) if b is not None and getattr(b, "geometries", None) else None
            if b is not None:
                self.notes.extend(getattr(b, "notes", ()))
                self.simulated_boundaries = bool(getattr(b, "simulated", False))
        return self._geoms

    def _boundaries_from_config(self) -> Any:  # noqa: ANN401 - AreaBoundaries or None
        import tomllib

        cfg = getattr(self.study, "config_path", None)
        if cfg is None or not Path(cfg).is_file():
            return None
        data = tomllib.loads(Path(cfg).read_text(encoding="utf-8")).get("data", {})
        rel = data.get("boundaries") if isinstance(data, dict) else None
        if not rel:
            return None
        path = Path(rel) if Path(rel).is_absolute() else Path(cfg).parent / rel
        if not path.exists():  # paths of the main job's configs are relative to the project's root
            path = Path(getattr(self.study, "root", Path.cwd())) / rel
        return read_boundaries(path, areas=self.areas())

    def shapes(self, ids: Iterable[str]) -> dict[str, Any]:
        """Polygons of ``ids``: their own, or (a district, the city) the union of their descendants'."""
        geoms = self.geometries() or {}
        if not geoms:
            return {}
        a = self.areas()
        children: dict[str, list[str]] = {}
        for i, p in zip(a["area_id"].astype(str), a["parent_id"], strict=True):
            if p == p and p:
                children.setdefault(str(p), []).append(i)
        out: dict[str, Any] = {}
        for i in ids:
            if i in geoms:
                out[i] = geoms[i]
                continue
            stack, parts = list(children.get(i, [])), []
            while stack:
                c = stack.pop()
                if c in geoms:
                    parts.append(geoms[c])
                else:
                    stack.extend(children.get(c, []))
            if parts:
                from shapely import union_all

                out[i] = union_all(parts)
        return out

    def map_svg(self, values: Any, *, lang: str, kind: str = "sequential", selected: str | None = None,  # noqa: ANN401
                width: int = 560, height: int = 440, fmt: str = "{:.1f}",
                reverse: bool = False) -> tuple[str, list[tuple[str, str]]]:
        """An inline SVG map of ``values`` (a Series by area_id: the areas drawn), and its legend;
        a schematic tile map when the study has no boundaries."""
        values = values.astype(float)
        if values.notna().any():
            fills, legend = map_colours(values, kind=kind, lang=lang, reverse=reverse)
        else:  # nothing to colour (riskmodel.maps.map_colours needs at least one value)
            fills, legend = {}, [(label("no_data", lang), NO_DATA_COLOUR)]
        names = self.names(lang)
        ids = [str(i) for i in values.index]
        shown = {a: fmt.format(v) for a, v in values.items() if v == v}
        shapes = self.shapes(ids)
        if shapes:
            svg = svg_map(shapes, fills, labels={a: names.get(a, a) for a in shapes}, values=shown, width=width,
                          height=height, selected=selected)
            if self.simulated_boundaries:
                svg += f'<p class="small">{_e(label("boundaries_simulated", lang))}</p>'
            return svg, legend
        return tile_map_svg(ids, fills, labels={a: names.get(a, a) for a in ids}, width=width,
                            selected=selected) + f'<p class="small">{_e(label("no_boundaries", lang))}</p>', legend

    def parents(self) -> dict[str, str]:
        """area_id -> parent_id ("" for the top)."""
        a = self.areas()
        return {str(i): (str(p) if p == p and p else "") for i, p in zip(a["area_id"], a["parent_id"], strict=True)}

    def codes(self) -> list[str]:
        """The index's codes (every node; they do not change while the server runs: cached)."""
        if not hasattr(self, "_codes"):
            self._codes = [str(c) for c in self.call(self.study.index_tree)["code"]]
        return self._codes

    def level_of(self, area_id: str) -> str:
        a = self.areas()
        lv = a.loc[a["area_id"].astype(str) == area_id, "level"]
        return str(lv.iloc[0]) if len(lv) else ""

    def ids_at(self, level: str) -> list[str]:
        a = self.areas()
        return [str(i) for i in a.loc[a["level"].astype(str) == level, "area_id"]]


def create_app(study: Any, ledger: Any = None, *, auth: BasicAuth | None = None,  # noqa: ANN401, C901, PLR0915
               secret_key: bytes | None = None) -> Flask:
    """The workbench for ``study`` (a :class:`riskmodel.workbench.WorkbenchStudy`).

    Parameters
    ----------
    study : WorkbenchStudy
        The opened study (its methods answer every page).
    ledger : Ledger, optional
        The study's database (default ``study.ledger``).
    auth : BasicAuth, optional
        Require HTTP basic auth (with lockout) on every request; None: the user is the OS user.
    secret_key : bytes, optional
        Signs the session cookie (random per start by default: sessions end with the server).
    """
    from flask import (
        Flask,
        Response,
        abort,
        flash,
        g,
        jsonify,
        make_response,
        redirect,
        render_template,
        request,
        send_file,
        session,
        url_for,
    )
    from markupsafe import Markup

    views = _Views(study, ledger if ledger is not None else getattr(study, "ledger", None))
    app = Flask("riskmodel.workbench", root_path=str(HERE), template_folder="templates", static_folder="static")
    app.secret_key = secret_key or secrets.token_bytes(32)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      MAX_CONTENT_LENGTH=1_000_000, JSON_SORT_KEYS=False, TEMPLATES_AUTO_RELOAD=False)
    app.extensions["riskmodel.views"] = views
    app.jinja_env.globals["zip"] = zip
    os_user = _os_user()

    # ---------------------------------------------------------------- request plumbing
    @app.before_request
    def _authenticate_and_check_csrf() -> Any:  # noqa: ANN401
        if auth is not None:
            result = limited(auth.check, auth.lockout)
            if getattr(result, "status_code", 200) != 200 and not hasattr(result, "username"):
                return result
            g.user = result.username
        else:
            g.user = os_user
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        lang = request.args.get("lang")
        if lang in ("zh", "en"):
            session["lang"] = lang
        g.lang = session.get("lang", views.default_lang)
        if request.method == "POST":
            sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
            if not hmac.compare_digest(str(sent), str(session.get("csrf", ""))):
                return _fail("CSRF token missing or wrong: reload the page and try again", 400)
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                "script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    def _wants_json() -> bool:
        return request.path.startswith("/api/")

    def _fail(message: str, code: int) -> Any:  # noqa: ANN401
        if _wants_json():
            return make_response(jsonify({"error": message}), code)
        return make_response(render_template("error.html", message=message, code=code, **_ctx()), code)

    @app.errorhandler(InputError)
    def _input_error(exc: InputError) -> Any:  # noqa: ANN401
        return _fail(_message(exc), 400)

    @app.errorhandler(400)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def _http_error(exc: Any) -> Any:  # noqa: ANN401
        return _fail(getattr(exc, "description", str(exc)), getattr(exc, "code", 400) or 400)

    @app.errorhandler(Exception)
    def _internal(exc: Exception) -> Any:  # noqa: ANN401
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return _http_error(exc)
        app.logger.exception("internal error")
        return _fail(f"internal error: {type(exc).__name__} (see the server's log)", 500)

    def t(key: str) -> str:
        return label(key, g.get("lang", "zh"))

    def _ctx() -> dict[str, Any]:
        lang = g.get("lang", "zh")
        return {"t": t, "lang": lang, "user": g.get("user", os_user), "csrf": session.get("csrf", ""),
                "study_name": getattr(study, "name", ""), "simulated": bool(getattr(study, "simulated", False)),
                "period": str(getattr(study, "period", ""))[:10]}

    def _json() -> dict[str, Any]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise _bad("expected a JSON object in the request body")
        return body

    def _area(area_id: str) -> str:
        if area_id not in views.names("zh"):
            abort(404, description=f"unknown area {area_id[:60]!r}")
        return area_id

    # ---------------------------------------------------------------- shared fragments
    def ranks_fragment(weights: Mapping[str, float] | None) -> dict[str, Any]:
        lang = g.lang
        r = views.call(study.ranks_for, weights)
        names = views.names(lang)
        table = ranks_table_html(r, names, lang, area_url=url_for("area_detail", area_id="AREA").rsplit("/", 1)[0])
        changed = [str(a) for a, c in zip(r["area_id"], r["rank_change"], strict=True) if c == c and c != 0]
        import pandas as pd

        ids = r["area_id"].astype(str).to_numpy()
        long = pd.DataFrame({"area_id": [*ids, *ids], "scheme": [t("rank_before")] * len(r) + [t("rank")] * len(r),
                             "rank": [*r["rank_before"], *r["rank"]]})
        bump = bump_svg(long, names=names, highlight=changed, lang=lang)
        scores = pd.Series(r["score"].to_numpy(float), index=r["area_id"].astype(str))
        map_html, legend = views.map_svg(scores.round(2), lang=lang)
        return {"table": table, "bump": bump, "map": map_html + _legend_html(legend),
                "ranks": {str(a): int(k) for a, k in zip(r["area_id"], r["rank"], strict=True)},
                "changed": len(changed)}

    def _legend_html(legend: list[tuple[str, str]]) -> str:
        return '<ul class="legend">' + "".join(
            f'<li><span class="swatch" style="background:{_e(c)}"></span>{_e(lbl)}</li>' for lbl, c in legend) + "</ul>"

    # ---------------------------------------------------------------- pages
    @app.get("/")
    def home() -> Any:  # noqa: ANN401
        return redirect(url_for("calibration"))

    @app.get("/calibration")
    def calibration() -> Any:  # noqa: ANN401
        lang = g.lang
        groups = views.call(study.groups)
        group_codes = [p for p, _ in groups]
        parent = request.args.get("group") or (group_codes[0] if group_codes else "")
        if parent and parent not in group_codes:
            raise _bad(f"unknown group {parent[:60]!r}; valid: {', '.join(group_codes)}", column="group")
        agg = request.args.get("agg", "AIJ")
        if agg not in ("AIJ", "AIP"):
            raise _bad("agg: must be AIJ or AIP", column="agg")
        expert = _text(request.args.get("expert", ""), "expert", required=False, max_len=80)
        nodes = views.node_names(lang)
        children = dict(groups).get(parent, [])
        pairs = [(a, b) for i, a in enumerate(children) for b in children[i + 1:]]
        method = str(getattr(study, "ahp_method", "eigenvector"))
        try:
            comm = views.call(study.committee, group="judgements" if agg == "AIJ" else "priorities", method=method)
        except InputError:  # no judgements saved yet
            comm = None
        experts = sorted({str(e) for e in comm.experts["expert"]}) if comm is not None and len(comm.experts) else []
        prefill: dict[str, float] = {}
        if expert and parent and views.ledger is not None:
            mine = views.call(views.ledger.judgements_long)
            for row in mine[(mine["expert"] == expert) & (mine["parent"] == parent)].itertuples():
                prefill[f"{row.row}|{row.col}"] = float(row.value)
        tree = views.call(study.index_tree)
        current = views.call(study.current_weights)
        rankings = views.call(study.expert_rankings, group="judgements" if agg == "AIJ" else "priorities",
                              method=method) if experts else None
        names = views.names(lang)
        sets = views.call(study.weight_sets)
        frag = ranks_fragment(None)
        return render_template(
            "calibration.html", groups=groups, parent=parent, children=children, pairs=pairs, nodes=nodes,
            saaty=SAATY_VALUES, method=method, agg=agg, expert=expert, experts=experts, prefill=prefill,
            comm=comm, tree=tree.to_dict("records"), current=current, names=names,
            rankings=_pivot_rankings(rankings, names) if rankings is not None else None,
            areas=[(a, names.get(a, a)) for a in frag["ranks"]],
            committee_weights=dict(comm.weights) if comm is not None else {},
            sets=sets.to_dict("records") if sets is not None and len(sets) else [],
            frag={k: Markup(v) if isinstance(v, str) else v for k, v in frag.items()}, **_ctx())

    def _pivot_rankings(r: Any, names: Mapping[str, str]) -> dict[str, Any]:  # noqa: ANN401
        schemes = list(dict.fromkeys(r["scheme"].astype(str)))
        piv = r.pivot_table(index="area_id", columns="scheme", values="rank", aggfunc="first")
        order = piv["committee"].sort_values().index if "committee" in piv else piv.index
        rows = [{"area_id": a, "name": names.get(str(a), str(a)),
                 "ranks": [None if piv.at[a, s] != piv.at[a, s] else int(piv.at[a, s]) for s in schemes]}
                for a in order]
        import pandas as pd

        return {"schemes": [t("committee_scheme") if x == "committee" else x for x in schemes], "rows": rows,
                "bump": Markup(bump_svg(pd.DataFrame({"area_id": r["area_id"].astype(str), "scheme": r["scheme"].astype(
                    str).replace("committee", t("committee_scheme")),
                                                      "rank": r["rank"]}), names=names, width=160 + 120 * len(schemes) + 150))}

    @app.post("/api/check")
    def api_check() -> Any:  # noqa: ANN401
        body = _json()
        parent, judgements = _judgements(body)
        res = views.call(study.check_matrix, parent, judgements)
        return jsonify(_ahp_json(res))

    def _judgements(body: Mapping[str, Any]) -> tuple[str, dict[tuple[str, str], float]]:
        groups = dict(views.call(study.groups))
        parent = _text(body.get("parent"), "parent", max_len=80)
        if parent not in groups:
            raise _bad(f"parent: unknown group {parent!r}", column="parent")
        raw = body.get("judgements")
        if not isinstance(raw, Mapping):
            raise _bad("judgements: expected an object {\"ROW|COL\": value}")
        kids = groups[parent]
        out: dict[tuple[str, str], float] = {}
        for key, v in raw.items():
            a, sep, b = str(key).partition("|")
            if not sep or a not in kids or b not in kids or kids.index(a) >= kids.index(b):
                raise _bad(f"judgements: {str(key)[:60]!r} is not a pair ROW|COL of {parent}'s members in order")
            out[(a, b)] = saaty_value(v, f"judgement ({a}, {b})")
        missing = [f"{a}|{b}" for i, a in enumerate(kids) for b in kids[i + 1:] if (a, b) not in out]
        if missing:
            raise _bad(f"judgements: missing {', '.join(missing[:6])}")
        return parent, out

    def _ahp_json(res: Any) -> dict[str, Any]:  # noqa: ANN401
        rv = res.revisit or None
        return {"cr": float(res.cr), "ci": float(res.ci), "lambda_max": float(res.lambda_max),
                "consistent": bool(res.consistent),
                "weights": {str(c): float(w) for c, w in zip(res.codes, res.weights, strict=True)},
                "revisit": {k: (v if isinstance(v, str) else float(v)) for k, v in rv.items()} if rv else None}

    @app.post("/api/judgements")
    def api_save_judgements() -> Any:  # noqa: ANN401
        body = _json()
        expert = _text(body.get("expert"), "expert", max_len=80)
        parent, judgements = _judgements(body)
        res = views.call(study.check_matrix, parent, judgements)
        version = views.call(study.save_judgements, expert, parent, judgements, who=g.user)
        return jsonify({"version": int(version), **_ahp_json(res)})

    @app.post("/api/ranks")
    def api_ranks() -> Any:  # noqa: ANN401
        body = _json()
        known = views.codes()
        w = weights_from(body.get("weights"), known)
        return jsonify(ranks_fragment(w))

    @app.post("/api/effective")
    def api_effective() -> Any:  # noqa: ANN401
        """The effective weights of edited weights (asked after the new ranks are shown: it takes longer)."""
        w = weights_from(_json().get("weights"), views.codes())
        tree = views.call(study.index_tree, w)
        return jsonify({str(c): round(float(e), 4) for c, e in zip(tree["code"], tree["effective"], strict=True)})

    @app.post("/api/intervals")
    def api_intervals() -> Any:  # noqa: ANN401
        body = _json()
        known = views.codes()
        w = weights_from(body["weights"], known) if body.get("weights") else None
        r = views.call(study.rank_intervals, w)
        names = views.names(g.lang)
        return jsonify({"table": render_template("_intervals.html", rows=r.to_dict("records"), names=names,
                                                 **_ctx())})

    @app.post("/api/swap")
    def api_swap() -> Any:  # noqa: ANN401
        body = _json()
        a = _text(body.get("a"), "street A", max_len=60)
        b = _text(body.get("b"), "street B", max_len=60)
        names = views.names(g.lang)
        for x in (a, b):
            if x not in names:
                raise _bad(f"unknown area {x!r}")
        if a == b:
            raise _bad("choose two different streets")
        known = views.codes()
        w = weights_from(body["weights"], known) if body.get("weights") else None
        ans = views.call(study.what_would_it_take, a, b, weights=w)
        return jsonify({"feasible": bool(ans.feasible),
                        "message": ans.message_zh if g.lang == "zh" else ans.message_en,
                        "table": render_template("_swap.html", rows=ans.table.to_dict("records"),
                                                 nodes=views.node_names(g.lang), **_ctx())})

    @app.post("/api/weightsets")
    def api_save_weight_set() -> Any:  # noqa: ANN401
        body = _json()
        name = _text(body.get("name"), "name", max_len=80)
        if not re.match(r"^[\w\- .\u4e00-\u9fff]+$", name):
            raise _bad("name: letters, digits, Chinese characters, spaces, '-', '_' and '.' only")
        method = str(body.get("method", "direct"))
        if method not in ("AIJ", "AIP", "direct"):
            raise _bad("method: AIJ, AIP or direct")
        note = _text(body.get("note", ""), "note", required=False, max_len=500)
        known = views.codes()
        w = weights_from(body.get("weights"), known)
        version = views.call(study.save_weight_set, name, w, method=method, who=g.user, note=note)
        return jsonify({"name": name, "version": int(version)})

    @app.post("/weightsets/use")
    def use_weight_set() -> Any:  # noqa: ANN401
        name = _text(request.form.get("name"), "name", max_len=80)
        version = _int(request.form.get("version"), "version")
        views.call(study.use_weight_set, name, version, who=g.user)
        flash(f"{t('use_set')}: {name} v{version}")
        return redirect(url_for("calibration"))

    @app.get("/weightsets/<name>/<int:version>.toml")
    def export_weight_set(name: str, version: int) -> Any:  # noqa: ANN401
        text = views.call(study.weight_config_toml, name, version)
        safe = re.sub(r"[^\w\-.]", "_", name) or "weights"
        resp = make_response(text)
        resp.headers["Content-Type"] = "application/toml; charset=utf-8"
        resp.headers["Content-Disposition"] = f'attachment; filename="{safe}_v{version}.toml"'
        return resp

    @app.get("/judgements.csv")
    def export_judgements() -> Any:  # noqa: ANN401
        resp = make_response(views.call(study.judgements_csv))
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
        resp.headers["Content-Disposition"] = 'attachment; filename="judgements.csv"'
        return resp

    def _int(raw: object, what: str) -> int:
        try:
            return int(str(raw))
        except (TypeError, ValueError):
            raise _bad(f"{what}: {str(raw)[:30]!r} is not a whole number") from None

    @app.get("/forecasts")
    def forecasts() -> Any:  # noqa: ANN401
        levels = views.call(study.forecast_levels)
        level = request.args.get("level") or (levels[-1] if levels else None)
        if level not in levels:
            raise _bad(f"level: {str(level)[:40]!r} is not one of {', '.join(levels)}", column="level")
        f = views.call(study.forecasts, level)
        cats = sorted({str(c) for c in f["category"]}) if len(f) else []
        cat = request.args.get("category", "")
        if cat and cat not in cats:
            raise _bad(f"category: {cat[:40]!r} is not one of {', '.join(cats)}", column="category")
        shown = f[f["category"] == cat] if cat else f
        import pandas as pd

        change = pd.to_numeric(shown["change"], errors="coerce").groupby(shown["area_id"].astype(str)).sum(min_count=1)
        # every area of the forecasts' level (the areas table's name of it: "area" for streets in the sample city)
        ids = list(dict.fromkeys([*views.ids_at(views.level_of(str(change.index[0]))), *change.index])) \
            if len(change) else []
        # more incidents is bad news: red above 0
        map_html, legend = views.map_svg(change.reindex(ids), lang=g.lang, kind="diverging", reverse=True)
        names = views.names(g.lang)
        return render_template("forecasts.html", levels=levels, level=level, cats=cats, cat=cat,
                               rows=shown.to_dict("records"), names=names,
                               map=Markup(map_html + _legend_html(legend)), **_ctx())

    @app.get("/warnings")
    def warnings_page() -> Any:  # noqa: ANN401
        w = views.call(study.warnings)
        names = views.names(g.lang)
        import pandas as pd

        # warnings per index unit (street), those of its grid cells included
        units = [str(a) for a in views.call(study.ranks_for, None)["area_id"]]
        up = views.parents()
        counts = pd.Series(0.0, index=units)
        for a in w["area_id"].astype(str) if len(w) else []:
            while a and a not in counts.index:
                a = up.get(a, "")
            if a:
                counts[a] += 1
        map_html, legend = views.map_svg(counts, lang=g.lang, fmt="{:.0f}")
        charts = []
        for row in w.to_dict("records"):
            s = views.call(study.warning_series, row["key"])
            charts.append(Markup(line_chart_svg(
                s, lines={"count": "#252525", "expected": "#2166ac", "threshold": "#d7191c"},
                labels={"count": t("count"), "expected": t("expected"), "threshold": t("threshold")})))
        return render_template("warnings.html", rows=w.to_dict("records"), charts=charts, names=names,
                               map=Markup(map_html + _legend_html(legend)), **_ctx())

    @app.get("/area/<area_id>")
    def area_detail(area_id: str) -> Any:  # noqa: ANN401
        _area(area_id)
        d = views.call(study.area_detail, area_id)
        names = views.names(g.lang)
        charts = []
        if len(d.series):
            for cat, s in d.series.groupby("category", sort=True):
                charts.append((cat, Markup(line_chart_svg(
                    s.sort_values("period"), lines={"count": "#252525", "expected": "#2166ac", "threshold": "#d7191c"},
                    labels={"count": t("count"), "expected": t("expected"), "threshold": t("threshold")}))))
        import pandas as pd

        # the area among those of its level, coloured by their index score where they have one
        scores = views.call(study.ranks_for, None).set_index("area_id")["score"]
        scores.index = scores.index.astype(str)
        ids = views.ids_at(views.level_of(area_id))
        map_html, legend = views.map_svg(pd.Series(scores, dtype=float).reindex(ids), lang=g.lang, selected=area_id,
                                         width=420, height=330)
        map_html += _legend_html(legend)
        nodes = views.node_names(g.lang)
        return render_template("area.html", area=d.area, area_name=names.get(area_id, area_id), charts=charts,
                               forecasts=d.forecasts.to_dict("records"), warnings=d.warnings.to_dict("records"),
                               components=d.components.to_dict("records"), nodes=nodes,
                               claims=d.claims.to_dict("records"), claim_cols=list(d.claims.columns),
                               supervision=d.supervision.to_dict("records"), map=Markup(map_html), **_ctx())

    @app.get("/followup")
    def followup() -> Any:  # noqa: ANN401
        w = views.call(study.warnings)
        sup = views.call(study.supervision)
        hist = views.call(study.follow_up_history)
        tree = views.call(study.index_tree)
        names = views.names(g.lang)
        return render_template("followup.html", warnings=w.to_dict("records"), supervision=sup.to_dict("records"),
                               history=hist.tail(50).iloc[::-1].to_dict("records"), names=names,
                               statuses=FOLLOW_UP_STATUSES, indicators=tree.to_dict("records"),
                               nodes=views.node_names(g.lang), today=date.today().isoformat(), **_ctx())

    @app.post("/followup")
    def followup_post() -> Any:  # noqa: ANN401
        key = _text(request.form.get("key"), "warning", max_len=300)
        status = _text(request.form.get("status"), "status", max_len=20)
        if status not in FOLLOW_UP_STATUSES:
            raise _bad(f"status: one of {', '.join(FOLLOW_UP_STATUSES)}")
        unit = _text(request.form.get("unit", ""), "unit", required=status == "assigned", max_len=120)
        note = _text(request.form.get("note", ""), "note", required=status == "rectified", max_len=1000)
        views.call(study.follow_up, key, status, who=g.user, unit=unit, note=note)
        flash(f"{t('saved')}: {t(status)}")
        return redirect(url_for("followup"))

    @app.post("/supervise")
    def supervise_post() -> Any:  # noqa: ANN401
        area_id = _text(request.form.get("area_id"), "area", max_len=60)
        if area_id not in views.names("zh"):
            raise _bad(f"area: unknown {area_id!r}")
        indicator = _text(request.form.get("indicator"), "indicator", max_len=80)
        target = _text(request.form.get("target"), "target", max_len=30)
        direction = _text(request.form.get("direction"), "direction", max_len=10)
        if direction not in ("at_most", "at_least"):
            raise _bad("direction: at_most or at_least")
        review = _text(request.form.get("review_date"), "review date", max_len=10)
        try:
            review_d = date.fromisoformat(review)
        except ValueError:
            raise _bad(f"review date: {review!r} is not a date YYYY-MM-DD") from None
        note = _text(request.form.get("note", ""), "note", required=False, max_len=1000)
        views.call(study.supervise, area_id, indicator, target, direction, review_d, who=g.user, note=note)
        flash(t("saved"))
        return redirect(url_for("followup"))

    @app.post("/supervise/end")
    def supervise_end() -> Any:  # noqa: ANN401
        item = _int(request.form.get("id"), "id")
        note = _text(request.form.get("note", ""), "note", required=False, max_len=1000)
        views.call(study.end_supervision, item, who=g.user, note=note)
        flash(t("saved"))
        return redirect(url_for("followup"))

    @app.get("/publish")
    def publish() -> Any:  # noqa: ANN401
        return render_template("publish.html", **_ctx())

    @app.post("/publish")
    def publish_post() -> Any:  # noqa: ANN401
        lang = request.form.get("doc_lang", "zh")
        fmt = request.form.get("format", "html")
        if lang not in ("zh", "en"):
            raise _bad("language: zh or en")
        if fmt not in ("html", "pdf", "xlsx"):
            raise _bad("format: html, pdf or xlsx")
        path = Path(views.call(study.publish, lang, (fmt,)))
        data = path.read_bytes()
        _remove_tree(path.parent)
        import io

        return send_file(io.BytesIO(data), as_attachment=True, download_name=path.name)

    return app


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "local"


__all__ = ["LABELS", "BasicAuth", "bump_svg", "create_app", "label", "line_chart_svg", "refuse_unsafe_host",
           "saaty_value", "weights_from"]
