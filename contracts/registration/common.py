"""What the registration events share: the ledger's vocabularies (statuses, kinds, reasons, categories)
and the value types (``FieldChange``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Sex = Literal["male", "female"]
Hukou = Literal["urban", "rural"]
EmployerSize = Literal["micro", "small", "medium", "large"]

#: Person categories of the ledger, which change over time (人员类别).
PersonCategory = Literal[
    "unemployed",  # 失业人员
    "laid_off",  # 下岗职工
    "rural_surplus_labour",  # 农村富余劳动力
    "new_entrant",  # 新成长劳动力 / 高校毕业生
    "flexible_employment",  # 灵活就业人员
    "migrant_worker",  # 外出务工 / 农民工
    "retired",  # 退休人员
]
PERSON_CATEGORIES: tuple[str, ...] = PersonCategory.__args__  # type: ignore[attr-defined]

#: A person is in exactly one employment status at a time (就业失业登记).
EmploymentStatus = Literal[
    "not_in_labour_force",  # 未就业未登记失业 / 不在劳动力: the status on entering the ledger
    "employed",  # 就业
    "registered_unemployed",  # 登记失业
    "retired",  # 退休
    "deceased",  # 死亡
]
EMPLOYMENT_STATUSES: tuple[str, ...] = EmploymentStatus.__args__  # type: ignore[attr-defined]

#: Kinds of employment (就业形式).
EmploymentKind = Literal[
    "unit",  # 单位就业
    "self_employed",  # 个体经营
    "flexible",  # 灵活就业
    "public_welfare_post",  # 公益性岗位
]
EMPLOYMENT_KINDS: tuple[str, ...] = EmploymentKind.__args__  # type: ignore[attr-defined]

#: Why employment ended (终止/解除劳动关系原因).
EmploymentEndReason = Literal[
    "contract_expired",  # 劳动合同期满终止
    "dismissed",  # 用人单位解除
    "resigned_employer_fault",  # 劳动法 Art 32(2)/(3): resigned because of the employer
    "resigned",  # 本人辞职
    "business_closed",  # 个体/灵活就业停止经营
    "retired",  # 退休
    "other",
]

#: Reasons that count as losing the job not by one's own choice (失业保险条例 Art 14; docs/rules.md, "Insurance").
INVOLUNTARY_END_REASONS: frozenset[str] = frozenset({"contract_expired", "dismissed", "resigned_employer_fault"})

#: Where a fact came from when another service caused it.
Source = Literal["registration", "assistance", "insurance"]

ServicePointLevel = Literal["county", "township", "village"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldChange(_Value):
    """One corrected field. PII fields (id_number, name, phone) carry no values, only ``redacted=True``."""

    field: str
    old: Any = None
    new: Any = None
    redacted: bool = False
