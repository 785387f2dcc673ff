from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, TimestampMixin, str_enum
from marketplace.core.time import today_china
from marketplace.extensions import db


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    icon: Mapped[str] = mapped_column(String(8), default="")
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0)

    def name_for(self, locale: str) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh


class ProductStatus(StrEnum):
    draft = "draft"  # being written by seller staff
    pending = "pending"  # submitted, waiting for a platform admin
    listed = "listed"  # approved; visible when the seller is verified
    rejected = "rejected"  # sent back with a reason; may be edited and submitted again
    delisted = "delisted"  # taken off sale by staff or an admin


PRODUCT_STATUS_LABELS = {
    ProductStatus.draft: "草稿",
    ProductStatus.pending: "待审核",
    ProductStatus.listed: "已上架",
    ProductStatus.rejected: "已驳回",
    ProductStatus.delisted: "已下架",
}


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_nonnegative"),
        CheckConstraint("held >= 0", name="held_nonnegative"),
        Index("ix_products_status_category", "status", "category_id"),
        Index("ix_products_status_price", "status", "price_fen"),
        Index("ix_products_status_listed_at", "status", "listed_at"),
        # the catalogue's default order, read in index order (migration 0002)
        Index("ix_products_status_featured_listed_at", "status", "featured", "listed_at", "id",
              "seller_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    origin_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    price_fen: Mapped[int] = mapped_column(BigInteger)
    household_share_bp: Mapped[int | None] = mapped_column(Integer)  # None: the seller's
    # attributed through supply lots (收购批次) rather than the seller's own households; an
    # enterprise's products always are
    lot_backed: Mapped[bool] = mapped_column(default=False, server_default="0")
    # the cooperative's guaranteed minimum purchase price (保底收购价) per unit, if it gives one
    guaranteed_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    # What the seller holds (on hand) is stock + held: `stock` is the units still free to sell
    # (checkout takes them with one conditional UPDATE, stock >= q), `held` those unpaid orders
    # hold. Checkout moves units from stock to held, a payment takes them out of held (sold),
    # an expiry or cancellation moves them back to stock; the seller sets on hand
    # (catalog.services.set_on_hand: stock = on hand - held).
    stock: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[ProductStatus] = mapped_column(str_enum(ProductStatus),
                                                  default=ProductStatus.draft)
    review_note: Mapped[str] = mapped_column(String(200), default="")
    certificate_no: Mapped[str] = mapped_column(String(64), default="")
    certificate_valid_until: Mapped[date | None] = mapped_column(Date)
    certificate_checked: Mapped[bool] = mapped_column(default=False)
    featured: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    listed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())

    seller = relationship("Seller", lazy="joined")
    category = relationship("Category", lazy="joined")
    origin = relationship("Region", lazy="joined")
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductImage.position",
        lazy="selectin")

    @property
    def certified(self) -> bool:
        """A certificate a platform admin checked and that has not expired."""
        return bool(self.certificate_no and self.certificate_checked
                    and self.certificate_valid_until
                    and self.certificate_valid_until >= today_china())

    @property
    def status_label(self) -> str:
        return PRODUCT_STATUS_LABELS[self.status]

    @property
    def on_hand(self) -> int:
        """The units the seller holds: free (`stock`) and held (by unpaid orders and group
        purchases' participations)."""
        return (self.stock or 0) + (self.held or 0)

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None


class ProductImage(db.Model):
    __tablename__ = "product_images"
    __table_args__ = (UniqueConstraint("product_id", "position",
                                       name="uq_product_images_position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    filename: Mapped[str] = mapped_column(String(80))
    thumb_filename: Mapped[str] = mapped_column(String(80))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    product: Mapped[Product] = relationship(back_populates="images")
