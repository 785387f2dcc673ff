"""The audit log: one insert-only row per decision an admin, office or liaison made (who, when,
what, on which object, the fields before and after). Rows are never changed or deleted: the
mapper refuses it here, and the migration's triggers refuse UPDATE and DELETE in the database
on both engines (a later SQLite batch alteration of this table must create them again).

`action` and `object_type` are stored as plain strings checked in Python, not as a database
CHECK: the list of decisions grows with the product, and a new one should need no migration."""
from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.models import AwareDateTime, BigId
from marketplace.core.time import now_utc
from marketplace.extensions import db


class AuditAction(StrEnum):
    seller_verified = "seller_verified"
    seller_suspended = "seller_suspended"
    seller_rejected = "seller_rejected"  # an application turned down, with its reason
    seller_resubmitted = "seller_resubmitted"  # the applicant sent it again, changed
    product_approved = "product_approved"
    product_rejected = "product_rejected"
    role_granted = "role_granted"
    role_revoked = "role_revoked"
    household_registered = "household_registered"
    consent_given = "consent_given"  # to the household's public page
    consent_withdrawn = "consent_withdrawn"
    lot_deleted = "lot_deleted"
    login_lock_lifted = "login_lock_lifted"
    # units (单位): a platform admin's decisions on applications, a unit admin's on members
    unit_verified = "unit_verified"
    unit_rejected = "unit_rejected"  # an application turned down, with its reason
    unit_member_removed = "unit_member_removed"
    unit_admin_changed = "unit_admin_changed"  # a member made admin, or no longer admin
    filing_approved = "filing_approved"  # a unit's annual filing, by its office
    filing_sent_back = "filing_sent_back"  # with the reason
    reserve_minimum_set = "reserve_minimum_set"  # a region subtree's minimum reserved share
    reserve_minimum_removed = "reserve_minimum_removed"
    # offices' reports
    assessment_weights_set = "assessment_weights_set"  # the ranking's indicator weights
    assessment_published = "assessment_published"  # a ranking kept as the notice (通报)
    liaisons_notified = "liaisons_notified"  # liaisons told of their households without income
    # the donation pool (help.pool)
    pool_allocated = "pool_allocated"  # pool money an office gave to a need
    donation_refunded = "donation_refunded"  # a paid pool donation given back by an admin
    # needs and micro-wishes (help.needs): an office's review, its decision on a flag
    need_approved = "need_approved"
    need_sent_back = "need_sent_back"  # with the reason
    need_flag_upheld = "need_flag_upheld"  # the need is removed
    need_flag_dismissed = "need_flag_dismissed"
    # fairs and live-sale events (help.events), by their organisers
    event_created = "event_created"
    event_updated = "event_updated"
    event_published = "event_published"
    event_cancelled = "event_cancelled"  # with the reason


class AuditObject(StrEnum):
    """What a decision was about (`core.policy.can_view_object` knows who may see each)."""

    seller = "seller"
    product = "product"
    user = "user"
    household = "household"
    supply_lot = "supply_lot"
    login = "login"  # a login or an address with no account behind it (a lock lifted): no id
    unit = "unit"
    unit_filing = "unit_filing"  # a budget unit's annual filing
    region = "region"  # a region (its subtree's minimum reserved share)
    pool_allocation = "pool_allocation"  # pool money given to a need (help.pool)
    donation = "donation"  # a donation (help.pool)
    need = "need"  # a need or micro-wish (help.needs), under its household
    event = "event"  # a fair or live-sale event (help.events)


ACTION_LABELS = {
    AuditAction.seller_verified: "经营主体通过认证",
    AuditAction.seller_suspended: "暂停经营主体",
    AuditAction.seller_rejected: "驳回入驻申请",
    AuditAction.seller_resubmitted: "重新提交入驻申请",
    AuditAction.product_approved: "商品审核通过",
    AuditAction.product_rejected: "商品审核驳回",
    AuditAction.role_granted: "授予角色",
    AuditAction.role_revoked: "撤销角色",
    AuditAction.household_registered: "登记帮扶对象",
    AuditAction.consent_given: "开启公开页面（户主同意）",
    AuditAction.consent_withdrawn: "关闭公开页面（撤回同意）",
    AuditAction.lot_deleted: "删除收购批次",
    AuditAction.login_lock_lifted: "解除登录锁定",
    AuditAction.unit_verified: "单位通过认证",
    AuditAction.unit_rejected: "驳回单位申请",
    AuditAction.unit_member_removed: "移出单位成员",
    AuditAction.unit_admin_changed: "变更单位管理员",
    AuditAction.filing_approved: "预留份额填报审核通过",
    AuditAction.filing_sent_back: "退回预留份额填报",
    AuditAction.reserve_minimum_set: "设置地区最低预留比例",
    AuditAction.reserve_minimum_removed: "取消地区最低预留比例",
    AuditAction.assessment_weights_set: "设置考核指标权重",
    AuditAction.assessment_published: "发布考核排名通报",
    AuditAction.liaisons_notified: "通知帮扶联络人（无收入户）",
    AuditAction.pool_allocated: "资金池拨付",
    AuditAction.donation_refunded: "退回捐赠",
    AuditAction.need_approved: "帮扶需求审核通过",
    AuditAction.need_sent_back: "退回帮扶需求",
    AuditAction.need_flag_upheld: "举报成立，下架帮扶需求",
    AuditAction.need_flag_dismissed: "驳回对帮扶需求的举报",
    AuditAction.event_created: "创建帮扶活动",
    AuditAction.event_updated: "修改帮扶活动",
    AuditAction.event_published: "发布帮扶活动",
    AuditAction.event_cancelled: "取消帮扶活动",
}
OBJECT_LABELS = {
    AuditObject.seller: "经营主体",
    AuditObject.product: "商品",
    AuditObject.user: "用户",
    AuditObject.household: "帮扶对象",
    AuditObject.supply_lot: "收购批次",
    AuditObject.login: "登录名或地址",
    AuditObject.unit: "单位",
    AuditObject.unit_filing: "单位预留份额填报",
    AuditObject.region: "行政区划",
    AuditObject.pool_allocation: "资金池拨付",
    AuditObject.donation: "捐赠",
    AuditObject.need: "帮扶需求",
    AuditObject.event: "帮扶活动",
}

# the fields `before` and `after` hold, as the pages name them
FIELD_LABELS = {
    "status": "状态",
    "certificate_checked": "证书已核验",
    "role": "角色",
    "seller": "经营主体",
    "seller_id": "经营主体编号",
    "name": "名称",
    "kind": "经营主体类型",
    "credit_code": "统一社会信用代码",
    "region": "行政区划代码",
    "code": "编号",
    "village": "所在村",
    "size": "家庭人口",
    "head": "户主",
    "liaison_id": "帮扶联络人编号",
    "public": "公开页面",
    "method": "同意方式",
    "product": "商品",
    "product_id": "商品编号",
    "household": "帮扶对象编号",
    "quantity": "数量",
    "unit_price_fen": "收购单价（分）",
    "purchased_on": "收购日期",
    "login": "登录名",
    "address": "客户端地址",
    "failures": "登录失败次数",
    "year": "年度",
    "unit_id": "单位编号",
    "reserved_fen": "预留金额（分）",
    "reserved_share_bp": "预留比例（基点）",
    "share_bp": "最低预留比例（基点）",
}


class AuditEntry(db.Model):
    """One decision. `actor_id` is None for the system (a command line, the demo data);
    `actor_name` is the actor's name when it was made. `parent_*` names the object the decided
    one belongs to (a lot's seller, a product's seller), so that its page can list them.
    `before_json` and `after_json` are JSON objects of the fields that changed, never personal data in
    the clear."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id", "id"),
        Index("ix_audit_entries_parent", "parent_type", "parent_id", "id"),
        Index("ix_audit_entries_action", "action", "id"),
        Index("ix_audit_entries_actor", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int | None] = mapped_column(BigInteger)  # None: a login, an address
    parent_type: Mapped[str | None] = mapped_column(String(24))
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    before_json: Mapped[str] = mapped_column(Text, default="{}")
    after_json: Mapped[str] = mapped_column(Text, default="{}")
    note: Mapped[str] = mapped_column(String(200), default="")

    @property
    def before(self) -> dict:
        return _loads(self.before_json)

    @property
    def after(self) -> dict:
        return _loads(self.after_json)

    @property
    def action_label(self) -> str:
        try:
            return ACTION_LABELS[AuditAction(self.action)]
        except ValueError:
            return self.action

    @property
    def object_label(self) -> str:
        try:
            return OBJECT_LABELS[AuditObject(self.object_type)]
        except ValueError:
            return self.object_type


def _loads(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class AuditLogIsInsertOnly(RuntimeError):
    """An audit entry was about to be changed or deleted: a programming error."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise AuditLogIsInsertOnly("audit_entries is insert-only: entries are never changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AuditLogIsInsertOnly("audit_entries is insert-only: entries are never deleted")
