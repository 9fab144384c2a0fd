"""线索导入: a marketer uploads a spreadsheet (.xlsx, or .csv in UTF-8 or GBK) of leads from a trade
show, a purchased list or an old system, picks the scene (and, if she likes, the channel and the
获客计划), and every row becomes a lead exactly as if it had arrived through that scene: mapped,
checked, deduplicated, tagged, assigned and answered by the scene's strategy.

The import is a background job (crm.jobs.runner), so a 100k-row file never times a page out; it
reports progress every batch of BATCH rows. Rows that cannot become a lead are skipped and listed
in a downloadable error sheet naming the row, the column and the reason. A row with an 外部ID is
imported once per scene however often the file is uploaded; two rows with the same 外部ID in one
file are refused (the second is named in the error sheet).

Headers may be Chinese or English (姓名/name, 手机号/mobile/phone …, the same names the scene
mapping recognises); any other column is kept in the lead's raw data, where mapping rules can
pick it up.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Optional

from openpyxl import Workbook

from config.db import Database
from crm.customers.import_columns import ImportColumn, map_header
from crm.customers.import_reader import SUFFIXES, read_rows, store_upload
from crm.customers.import_rows import RowError
from crm.customers.importing import imports_dir, write_error_sheet
from crm.jobs.models import Job
from crm.jobs.runner import ATTEMPTS_KEY, register_handler, submit
from crm.leads import intake
from crm.leads.errors import LeadsError, SubmissionRefused
from crm.leads.fields import STANDARD_FIELDS
from crm.leads.mapping import SYNONYMS
from crm.leads.models import AcquisitionPlan, LeadChannel, LeadScene

KIND = "leads.import"
BATCH = 500
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
EXTERNAL_ID = "external_id"
MAX_EXTERNAL_ID = 128

# The template's headers, in order; the labels are what the error sheet calls the columns.
TEMPLATE_COLUMNS = (
    ImportColumn("name", "姓名", ""),
    ImportColumn("mobile", "手机号", "手机号、邮箱、微信至少填一项"),
    ImportColumn("email", "邮箱", ""),
    ImportColumn("wechat", "微信", "微信号"),
    ImportColumn("company", "公司", ""),
    ImportColumn("message", "需求", "客户的需求或留言"),
    ImportColumn("region", "地区", "例如 上海"),
    ImportColumn("product", "产品", "意向产品"),
    ImportColumn("intent", "意向", "例如 高 / 中 / 低"),
    ImportColumn("value", "价值", "线索价值，单位：元"),
    ImportColumn(EXTERNAL_ID, "外部ID", "原系统里的编号；同一场景内相同外部ID只导入一次"),
)
EXTRA_ALIASES = {EXTERNAL_ID: ("外部id", "外部编号", "external id")}
EXAMPLE = {"name": "张三", "mobile": "13900000000", "email": "zhangsan@example.com", "wechat": "zhangsan_wx",
           "company": "示例科技", "message": "想了解产品A报价", "region": "上海", "product": "产品A",
           "intent": "高", "value": "5000", EXTERNAL_ID: "CRM-0001"}


def _columns() -> list[ImportColumn]:
    """Template columns, then every other name the scene mapping knows for the same field."""
    columns = list(TEMPLATE_COLUMNS)
    labels = {c.label for c in columns} | {c.key for c in columns}
    for c in TEMPLATE_COLUMNS:
        for alias in SYNONYMS.get(c.key, ()) + EXTRA_ALIASES.get(c.key, ()):
            if alias not in labels:
                labels.add(alias)
                columns.append(ImportColumn(c.key, alias, ""))
    return columns


COLUMNS = _columns()
LABELS = {c.key: c.label for c in TEMPLATE_COLUMNS} | {f["name"]: f["label"] for f in STANDARD_FIELDS
                                                       if f["name"] not in {c.key for c in TEMPLATE_COLUMNS}}


# ---- upload ----------------------------------------------------------------------------------------

def _check_target(db: Database, scene_id, channel_id, plan_id) -> None:
    with db.read() as session:
        scene = session.get(LeadScene, scene_id) if scene_id else None
        if scene is None:
            raise LeadsError("请选择导入到哪个获客场景", {"scene_id": "场景不存在"})
        if not scene.is_enabled:
            raise LeadsError(f"场景「{scene.name}」已停用，请先启用", {"scene_id": "场景已停用"})
        if channel_id is not None and session.get(LeadChannel, channel_id) is None:
            raise LeadsError("所选渠道不存在", {"channel_id": "渠道不存在"})
        if plan_id is not None:
            plan = session.get(AcquisitionPlan, plan_id)
            if plan is None or plan.scene_id != scene.id:
                raise LeadsError("所选获客计划不属于该场景", {"plan_id": "获客计划不属于该场景"})


def submit_import(db: Database, var_dir: Path, filename: str, stream: BinaryIO, *, scene_id: Optional[int],
                  channel_id: Optional[int] = None, plan_id: Optional[int] = None,
                  created_by: Optional[int] = None, tz: str | None = None, now=None) -> Job:
    """Checks the target, stores the upload under var/imports and queues the import job."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise LeadsError("只支持 .xlsx 和 .csv 文件", {"file": "只支持 .xlsx 和 .csv 文件"})
    _check_target(db, scene_id, channel_id, plan_id)
    stored = store_upload(imports_dir(var_dir), "lead_upload", suffix, stream, MAX_UPLOAD_BYTES, LeadsError)
    params = {"path": str(stored.relative_to(var_dir)), "filename": Path(filename).name[:200], "scene_id": scene_id,
              "channel_id": channel_id, "plan_id": plan_id, "tz": tz, "var_dir": str(var_dir)}
    return submit(db, KIND, params, created_by, now=now)


# ---- reading -----------------------------------------------------------------------------------------

@dataclass
class Row:
    number: int
    submission: Optional[intake.Submission] = None
    errors: list[RowError] = field(default_factory=list)
    columns: dict = field(default_factory=dict)  # lead field → header text, to name columns in errors


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 13900000000 as 13900000000.0
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


class RowReader:
    """Header → lead fields once; then each row → a Submission (or its errors)."""

    def __init__(self, header: list, *, channel_id=None, plan_id=None, filename: str = ""):
        self.meta = {"file": filename}
        self.channel_id, self.plan_id = channel_id, plan_id
        mapped = map_header(header, COLUMNS)
        self.fields: dict[int, tuple[str, str]] = {}  # position → (raw key, header text)
        taken: set[str] = set()
        for index, cell in enumerate(header):
            text = _text(cell)
            column = mapped.get(index)
            if column is not None and column.key not in taken:
                taken.add(column.key)
                self.fields[index] = (column.key, text)
            elif text:
                self.fields[index] = (text, text)  # kept in raw under its own header
        self.known = taken
        self.seen_external: dict[str, int] = {}

    def read(self, number: int, cells: list) -> Row:
        row = Row(number)
        raw: dict = {}
        for index, (key, header) in self.fields.items():
            value = _text(cells[index]) if index < len(cells) else ""
            row.columns[key] = header
            if value:
                raw[key] = value
        external_id = raw.pop(EXTERNAL_ID, None)
        if external_id is not None:
            header = row.columns[EXTERNAL_ID]
            if len(external_id) > MAX_EXTERNAL_ID:
                row.errors.append(RowError(number, header, f"外部ID太长（最多 {MAX_EXTERNAL_ID} 个字符）"))
            elif external_id in self.seen_external:
                row.errors.append(RowError(number, header, f"与第 {self.seen_external[external_id]} 行的外部ID重复"))
            else:
                self.seen_external[external_id] = number
        if not row.errors:
            row.submission = intake.Submission(raw=raw, external_id=external_id, meta={**self.meta, "row": number},
                                               source="file", channel_id=self.channel_id, plan_id=self.plan_id)
        return row


def read_file(path: Path, *, channel_id=None, plan_id=None, filename: str = "",
              needs_known_column: bool = True) -> list[Row]:
    """Every data row of the file (blank rows skipped, numbers as in the file), checked for the
    limits and for 外部ID repeated inside the file; nothing is written."""
    rows = read_rows(path)
    first = next(rows, None)
    if first is None:
        raise LeadsError("文件里没有内容（第一行应为表头）", {"file": "文件是空的"})
    reader = RowReader(first[1], channel_id=channel_id, plan_id=plan_id, filename=filename)
    if needs_known_column and not (reader.known - {EXTERNAL_ID}):
        raise LeadsError("表头里没有可识别的列（如 姓名、手机号、邮箱），请使用下载的导入模板",
                         {"file": "表头无法识别"})
    out = []
    for number, cells in rows:
        if len(out) >= MAX_ROWS:
            raise LeadsError(f"一次最多导入 {MAX_ROWS} 行，请拆分文件", {"file": "行数超过上限"})
        out.append(reader.read(number, cells))
    return out


# ---- the job -------------------------------------------------------------------------------------------

def _refusal_errors(row: Row, refused: SubmissionRefused) -> list[RowError]:
    """The intake's field errors, named by the file's own column header where the field came from one."""
    items = refused.errors
    if isinstance(items, dict):
        items = [{"field": k, "message": v} for k, v in items.items()]
    out = []
    for item in items or []:
        name = str(item.get("field") or "")
        column = row.columns.get(name) or LABELS.get(name) or name or "整行"
        out.append(RowError(row.number, column, str(item.get("message") or refused.message)))
    return out or [RowError(row.number, "整行", refused.message)]


def run_import(db: Database, job: Job, progress) -> dict:
    params = job.params or {}
    var_dir = Path(params["var_dir"])
    scene_id = params["scene_id"]
    with db.read() as session:
        scene = session.get(LeadScene, scene_id)
        if scene is None:
            raise LeadsError("导入的获客场景已被删除")
        has_rules = bool(scene.mapping_rules)
    rows = read_file(var_dir / params["path"], channel_id=params.get("channel_id"), plan_id=params.get("plan_id"),
                     filename=params.get("filename", ""), needs_known_column=not has_rules)
    total = len(rows)
    # A job taken over after a crash resumes after the last batch it reported (those leads are stored).
    resume = job.done if int(params.get(ATTEMPTS_KEY, 1)) > 1 else 0
    accepted, failed = (job.ok, job.failed) if resume else (0, 0)
    created = duplicates = 0
    errors: list[RowError] = []
    progress(resume, total, accepted, failed)
    for start in range(resume, total, BATCH):
        batch = rows[start:start + BATCH]
        ready = [r for r in batch if r.submission is not None]
        results = intake.submit(db, scene_id, [r.submission for r in ready], params.get("tz"))
        for row, result in zip(ready, results):
            if isinstance(result, SubmissionRefused):
                row.errors = _refusal_errors(row, result)
            elif result.duplicate:
                duplicates += 1
            else:
                created += 1
        bad = [r for r in batch if r.errors]
        errors += [e for r in bad for e in r.errors]
        accepted, failed = accepted + len(batch) - len(bad), failed + len(bad)
        progress(start + len(batch), total, accepted, failed)
    result_path = ""
    if errors:
        sheet = imports_dir(var_dir) / f"lead_errors_{job.id}.xlsx"
        write_error_sheet(sheet, errors)
        result_path = str(sheet.relative_to(var_dir))
    message = f"共 {total} 行：新线索 {created}，重复（外部ID已导入过）{duplicates}，失败 {failed}"
    if resume:
        message += f"（任务中断后从第 {resume + 1} 条数据继续）"
    return {"message": message, "result_path": result_path, "ok": accepted, "failed": failed, "done": total,
            "total": total}


register_handler(KIND, run_import)


# ---- template ---------------------------------------------------------------------------------------

def template_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "线索导入"
    ws.append([c.label for c in TEMPLATE_COLUMNS])
    ws.append([EXAMPLE.get(c.key, "") for c in TEMPLATE_COLUMNS])
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "说明"])
    for c in TEMPLATE_COLUMNS:
        aliases = [a for a in SYNONYMS.get(c.key, ()) if a != c.label]
        notes.append([c.label, "；".join(p for p in (c.hint, "也可写作：" + " / ".join(aliases) if aliases else "") if p)])
    notes.append(["其他列", "原样保存在线索的原始数据中，可在场景的数据映射规则里引用"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([c.label for c in TEMPLATE_COLUMNS])
    writer.writerow([EXAMPLE.get(c.key, "") for c in TEMPLATE_COLUMNS])
    # utf-8-sig: Excel on Windows opens it with the Chinese headers intact.
    return buf.getvalue().encode("utf-8-sig")
