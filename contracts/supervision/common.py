"""What the supervision events share: the employer they are about and what labour inspection covers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.regions import RegionCode

#: What a complaint is about (投诉事项).
ComplaintType = Literal[
    "wage_arrears",  # 拖欠工资
    "no_written_contract",  # 未签订书面劳动合同
    "insurance_not_paid",  # 未缴纳社会保险
    "excessive_overtime",  # 超时加班
    "child_labour",  # 使用童工
    "other",  # 其他, naming its Art 11 item
]

#: The matters labour inspection covers (劳动保障监察条例 Art 11).
InspectionScope = Literal[
    "work_rules",  # 规章制度
    "labour_contracts",  # 劳动合同
    "child_labour",  # 禁止使用童工
    "women_minors_protection",  # 女职工和未成年工特殊劳动保护
    "working_hours_leave",  # 工作时间和休息休假
    "wages_minimum_wage",  # 工资和最低工资
    "social_insurance",  # 社会保险
    "agencies_training",  # 职业介绍、职业技能培训和职业技能考核鉴定
]


class Value(BaseModel):
    """A value inside an event: immutable, and refusing fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EmployerRef(Value):
    """The employer a record is about: a registered one (its id), or free text with its credit code."""

    employer_id: str = Field(description="Registration's employer id, or an id derived from the credit code")
    credit_code: str
    name: str
    region_code: RegionCode = Field(description="Where the employer operates: its inspection jurisdiction")
    registered: bool = Field(description="True when the employer is in registration's ledger")
