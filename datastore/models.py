"""The one schema definition shared by the admin API and the Stasis app.

Tables that Asterisk itself reads or writes keep Asterisk's table and column names and column types
(``ps_endpoints``, ``ps_auths``, ``ps_aors``, ``queues``, ``queue_members``, ``queue_log``, ``cdr``), so
a stock Asterisk can load the same rows through realtime (and its own ``app_queue`` can be compared with
OpenContact's ACD on identical configuration). The product's own settings are extra columns on those
tables, which Asterisk ignores. ``sql/mysql/schema.sql`` is the same schema as MySQL DDL; a test
proves the two are identical on a real MariaDB.

Conventions:
- Asterisk-only options that OpenContact does not set are nullable: NULL means "Asterisk's default"
  (realtime drivers skip NULL columns, while an empty string would be parsed as a value).
- Asterisk yes/no options are stored as the text Asterisk expects ("yes"/"no") and seen in Python as
  ``bool`` (see :class:`YesNo`).
- Times are naive UTC.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from datastore.passwords import sip_md5_cred, sip_realm

ROLES: tuple[str, ...] = ("agent", "supervisor", "administrative")
"""User roles of the seed's training guide: agents take calls; supervisors also supervise (spy mode);
administrative users see the supervisor menus but have no phone."""

STRATEGIES: tuple[str, ...] = (
    "ringall",
    "leastrecent",
    "fewestcalls",
    "random",
    "rrmemory",
    "linear",
    "wrandom",
    "rrordered",
)
"""Distribution strategies: the seven of the product plus Asterisk's ``rrordered``."""

DIRECTIONS: tuple[str, ...] = ("inbound", "outbound")

AST_BOOL_VALUES: tuple[str, ...] = ("yes", "no", "true", "false", "on", "off", "1", "0")
"""Texts Asterisk accepts for a boolean option."""

DTMF_MODES: tuple[str, ...] = ("rfc4733", "inband", "info", "auto", "auto_info")
MEDIA_ENCRYPTIONS: tuple[str, ...] = ("no", "sdes", "dtls")
AUTH_TYPES: tuple[str, ...] = ("md5", "userpass", "digest", "google_oauth")
AUTOPAUSE_VALUES: tuple[str, ...] = ("yes", "no", "all")

TABLE_OPTIONS: dict[str, str] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}
"""Every table is InnoDB (transactions, foreign keys) in utf8mb4 (names from any language)."""


def utcnow() -> datetime:
    """Now as naive UTC, the form every datetime column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


class YesNo(TypeDecorator[bool]):
    """A boolean stored as Asterisk's "yes"/"no" text, so realtime reads it as Asterisk expects.

    Reading accepts every spelling Asterisk accepts ("true", "on", "1"...), for rows written by other
    tools.
    """

    impl = String(5)
    cache_ok = True

    def process_bind_param(self, value: bool | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return "yes" if value else "no"

    def process_result_value(self, value: Any, dialect: Dialect) -> bool | None:
        if value is None:
            return None
        return str(value).strip().lower() in ("yes", "true", "on", "1", "y", "t")


_BIGINT_ID = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on MySQL; SQLite only auto-increments an INTEGER primary key."""

_MICRO_DATETIME = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
"""Datetime with microseconds on MySQL (queue events within one second keep their order)."""


def _one_of(table: str, column: str, values: tuple[str, ...], *, quoted: bool = False) -> CheckConstraint:
    """A named CHECK that ``column`` holds one of ``values`` (or NULL)."""
    listed = ",".join(f"'{value}'" for value in values)
    name = f"`{column}`" if quoted else column
    return CheckConstraint(f"{name} IN ({listed})", name=f"ck_{table}_{column}")


def _flags(table: str, *columns: str) -> list[CheckConstraint]:
    return [_one_of(table, column, AST_BOOL_VALUES) for column in columns]


def _text(length: int, default: str = "") -> Mapped[str]:
    """A NOT NULL text setting with a default, the same in Python and in the database."""
    return mapped_column(String(length), nullable=False, default=default, server_default=default)


def _number(default: int) -> Mapped[int]:
    return mapped_column(Integer, nullable=False, default=default, server_default=str(default))


def _switch(default: bool) -> Mapped[bool]:
    """A NOT NULL yes/no option in Asterisk's spelling."""
    text = "yes" if default else "no"
    return mapped_column(YesNo(), nullable=False, default=default, server_default=text)


def _boolean(default: bool) -> Mapped[bool]:
    """A product-only flag (not read by Asterisk), stored as 0/1."""
    return mapped_column(Boolean, nullable=False, default=default, server_default="1" if default else "0")


class Base(DeclarativeBase):
    """Declarative base of every OpenContact table.

    Constraint names are fixed by convention so that the DDL in ``sql/`` names them identically.
    """

    metadata = MetaData(
        naming_convention={
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_N_name)s",
        }
    )


# --------------------------------------------------------------------------------------------------
# Asterisk realtime: PJSIP
# --------------------------------------------------------------------------------------------------

_ENDPOINT_FLAGS = (
    "direct_media",
    "force_rport",
    "rewrite_contact",
    "rtp_symmetric",
    "ice_support",
    "use_avpf",
    "dtls_auto_generate_cert",
    "rtcp_mux",
    "bundle",
    "webrtc",
    "allow_subscribe",
    "trust_id_inbound",
    "send_pai",
)


class PsEndpoint(Base):
    """A PJSIP endpoint (one agent phone or trunk) as Asterisk's realtime ``ps_endpoints`` row."""

    __tablename__ = "ps_endpoints"
    __table_args__ = (
        *_flags("ps_endpoints", *_ENDPOINT_FLAGS),
        _one_of("ps_endpoints", "dtmf_mode", DTMF_MODES),
        _one_of("ps_endpoints", "media_encryption", MEDIA_ENCRYPTIONS),
        TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    transport: Mapped[str | None] = mapped_column(String(40))
    aors: Mapped[str | None] = mapped_column(String(2048))
    auth: Mapped[str | None] = mapped_column(String(255))
    context: Mapped[str | None] = mapped_column(String(40))
    disallow: Mapped[str | None] = mapped_column(String(200))
    allow: Mapped[str | None] = mapped_column(String(200))
    direct_media: Mapped[bool | None] = mapped_column(YesNo())
    dtmf_mode: Mapped[str | None] = mapped_column(String(40))
    force_rport: Mapped[bool | None] = mapped_column(YesNo())
    rewrite_contact: Mapped[bool | None] = mapped_column(YesNo())
    rtp_symmetric: Mapped[bool | None] = mapped_column(YesNo())
    ice_support: Mapped[bool | None] = mapped_column(YesNo())
    use_avpf: Mapped[bool | None] = mapped_column(YesNo())
    media_encryption: Mapped[str | None] = mapped_column(String(40))
    dtls_verify: Mapped[str | None] = mapped_column(String(40))
    dtls_setup: Mapped[str | None] = mapped_column(String(40))
    dtls_cert_file: Mapped[str | None] = mapped_column(String(200))
    dtls_private_key: Mapped[str | None] = mapped_column(String(200))
    dtls_ca_file: Mapped[str | None] = mapped_column(String(200))
    dtls_auto_generate_cert: Mapped[bool | None] = mapped_column(YesNo())
    rtcp_mux: Mapped[bool | None] = mapped_column(YesNo())
    bundle: Mapped[bool | None] = mapped_column(YesNo())
    webrtc: Mapped[bool | None] = mapped_column(YesNo())
    mailboxes: Mapped[str | None] = mapped_column(String(40))
    callerid: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(40))
    accountcode: Mapped[str | None] = mapped_column(String(80))
    call_group: Mapped[str | None] = mapped_column(String(40))
    pickup_group: Mapped[str | None] = mapped_column(String(40))
    named_call_group: Mapped[str | None] = mapped_column(String(40))
    named_pickup_group: Mapped[str | None] = mapped_column(String(40))
    device_state_busy_at: Mapped[int | None] = mapped_column(Integer)
    moh_suggest: Mapped[str | None] = mapped_column(String(40))
    from_user: Mapped[str | None] = mapped_column(String(40))
    from_domain: Mapped[str | None] = mapped_column(String(40))
    outbound_auth: Mapped[str | None] = mapped_column(String(255))
    outbound_proxy: Mapped[str | None] = mapped_column(String(255))
    allow_subscribe: Mapped[bool | None] = mapped_column(YesNo())
    subscribe_context: Mapped[str | None] = mapped_column(String(40))
    trust_id_inbound: Mapped[bool | None] = mapped_column(YesNo())
    send_pai: Mapped[bool | None] = mapped_column(YesNo())
    rtp_timeout: Mapped[int | None] = mapped_column(Integer)
    rtp_keepalive: Mapped[int | None] = mapped_column(Integer)
    max_audio_streams: Mapped[int | None] = mapped_column(Integer)
    set_var: Mapped[str | None] = mapped_column(Text)


class PsAuth(Base):
    """A PJSIP inbound authentication as Asterisk's ``ps_auths`` row (``auth_type=md5`` + ``md5_cred``)."""

    __tablename__ = "ps_auths"
    __table_args__ = (_one_of("ps_auths", "auth_type", AUTH_TYPES), TABLE_OPTIONS)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    auth_type: Mapped[str | None] = mapped_column(String(20))
    nonce_lifetime: Mapped[int | None] = mapped_column(Integer)
    md5_cred: Mapped[str | None] = mapped_column(String(40))
    password: Mapped[str | None] = mapped_column(String(80))
    realm: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(40))


class PsAor(Base):
    """Where a PJSIP endpoint can be reached, as Asterisk's ``ps_aors`` row."""

    __tablename__ = "ps_aors"
    __table_args__ = (
        *_flags("ps_aors", "remove_existing", "remove_unavailable", "authenticate_qualify", "support_path"),
        Index("ps_aors_qualifyfreq_contact", "qualify_frequency", "contact"),
        TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    contact: Mapped[str | None] = mapped_column(String(255))
    default_expiration: Mapped[int | None] = mapped_column(Integer)
    mailboxes: Mapped[str | None] = mapped_column(String(80))
    max_contacts: Mapped[int | None] = mapped_column(Integer)
    minimum_expiration: Mapped[int | None] = mapped_column(Integer)
    maximum_expiration: Mapped[int | None] = mapped_column(Integer)
    remove_existing: Mapped[bool | None] = mapped_column(YesNo())
    remove_unavailable: Mapped[bool | None] = mapped_column(YesNo())
    qualify_frequency: Mapped[int | None] = mapped_column(Integer)
    qualify_timeout: Mapped[float | None] = mapped_column(Float)
    authenticate_qualify: Mapped[bool | None] = mapped_column(YesNo())
    support_path: Mapped[bool | None] = mapped_column(YesNo())
    outbound_proxy: Mapped[str | None] = mapped_column(String(255))
    voicemail_extension: Mapped[str | None] = mapped_column(String(40))


#: Dialplan context of agent phones: dialplan/extensions.conf sends what they dial into Stasis from there.
PHONE_CONTEXT = "from-internal"
#: Context of the Asterisk mailboxes (``<extension>@<context>``) the voicemail keeps counts in.
MAILBOX_CONTEXT = "opencontact"
_OFF_WORDS = frozenset({"off", "no", "none", "0", "false"})


def mailbox_context(environ: Mapping[str, str] | None = None) -> str:
    """``OC_VOICEMAIL_MWI_CONTEXT``, read alike by the phone rows and by the voicemail so both name
    the same mailboxes: empty means :data:`MAILBOX_CONTEXT`, ``off`` means no mailboxes at all."""
    env = os.environ if environ is None else environ
    raw = env.get("OC_VOICEMAIL_MWI_CONTEXT", "")
    value = raw.strip()
    if not value:
        return MAILBOX_CONTEXT
    if value.lower() in _OFF_WORDS:
        return ""
    if "@" in value or "/" in value or "," in value or any(char.isspace() for char in value):
        raise ValueError(f"OC_VOICEMAIL_MWI_CONTEXT must be a plain context name, got {raw!r}")
    return value


def sip_phone_rows(
    extension: str,
    password: str,
    *,
    context: str = PHONE_CONTEXT,
    transport: str | None = None,
    webrtc: bool = True,
    callerid: str | None = None,
    realm: str | None = None,
    mailbox: str | None = None,
) -> tuple[PsEndpoint, PsAuth, PsAor]:
    """The three realtime rows of one agent phone, named after its extension.

    The secret is kept only as ``md5_cred`` (``auth_type=md5``), never in clear. WebRTC phones get
    Asterisk's ``webrtc=yes`` (ICE, AVPF, DTLS, rtcp-mux, bundle) and opus first; every phone is
    treated as behind NAT (rport, contact rewrite, symmetric RTP), as the seed's ``nat=yes``.
    The phone subscribes to its voicemail's message-waiting mailbox, ``<extension>@`` the
    :func:`mailbox_context` unless ``mailbox`` names another ("" for none).
    """
    chosen_realm = realm or sip_realm()
    if mailbox is None:
        context_of_boxes = mailbox_context()
        mailbox = f"{extension}@{context_of_boxes}" if context_of_boxes else ""
    endpoint = PsEndpoint(
        id=extension,
        transport=transport,
        aors=extension,
        auth=extension,
        context=context,
        disallow="all",
        allow="opus,ulaw,alaw" if webrtc else "ulaw,alaw",
        direct_media=False,
        dtmf_mode="rfc4733",
        force_rport=True,
        rewrite_contact=True,
        rtp_symmetric=True,
        webrtc=webrtc,
        dtls_auto_generate_cert=True if webrtc else None,
        callerid=callerid if callerid is not None else f'"{extension}" <{extension}>',
        mailboxes=mailbox or None,
    )
    auth = PsAuth(
        id=extension,
        auth_type="md5",
        username=extension,
        realm=chosen_realm,
        md5_cred=sip_md5_cred(extension, chosen_realm, password),
        password=None,
    )
    aor = PsAor(id=extension, max_contacts=1, remove_existing=True, qualify_frequency=60)
    return endpoint, auth, aor


# --------------------------------------------------------------------------------------------------
# Campaigns (Asterisk realtime queues) and their members
# --------------------------------------------------------------------------------------------------

_QUEUE_FLAGS = (
    "ringinuse",
    "setinterfacevar",
    "setqueuevar",
    "setqueueentryvar",
    "announce_to_first_user",
    "relative_periodic_announce",
    "random_periodic_announce",
    "autofill",
    "autopausebusy",
    "autopauseunavail",
    "reportholdtime",
    "timeoutrestart",
    "log_restricted_caller_id",
    "eventmemberstatus",
    "eventwhencalled",
)


class Campaign(Base):
    """A voice campaign: Asterisk's realtime ``queues`` row plus the product's own settings.

    Asterisk's ``app_queue`` reads the Asterisk columns (it turns ``_`` into ``-`` for option names)
    and ignores the rest, so the same row configures both OpenContact's ACD and a stock queue.
    """

    __tablename__ = "queues"
    __table_args__ = (
        *_flags("queues", *_QUEUE_FLAGS),
        _one_of("queues", "strategy", STRATEGIES),
        _one_of("queues", "autopause", AUTOPAUSE_VALUES),
        _one_of("queues", "direction", DIRECTIONS),
        TABLE_OPTIONS,
    )

    # Asterisk's queue columns -------------------------------------------------------------------
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    musiconhold: Mapped[str] = _text(128, "default")
    announce: Mapped[str] = _text(128)
    context: Mapped[str] = _text(128)
    timeout: Mapped[int] = _number(15)
    """Seconds an agent's phone rings before the call moves on."""
    ringinuse: Mapped[bool] = _switch(False)
    setinterfacevar: Mapped[bool] = _switch(True)
    setqueuevar: Mapped[bool | None] = mapped_column(YesNo())
    setqueueentryvar: Mapped[bool | None] = mapped_column(YesNo())
    monitor_format: Mapped[str] = _text(8, "wav")
    membermacro: Mapped[str | None] = mapped_column(String(512))
    membergosub: Mapped[str | None] = mapped_column(String(512))
    queue_youarenext: Mapped[str | None] = mapped_column(String(128))
    queue_thereare: Mapped[str | None] = mapped_column(String(128))
    queue_callswaiting: Mapped[str | None] = mapped_column(String(128))
    queue_quantity1: Mapped[str | None] = mapped_column(String(128))
    queue_quantity2: Mapped[str | None] = mapped_column(String(128))
    queue_holdtime: Mapped[str | None] = mapped_column(String(128))
    queue_minutes: Mapped[str | None] = mapped_column(String(128))
    queue_minute: Mapped[str | None] = mapped_column(String(128))
    queue_seconds: Mapped[str | None] = mapped_column(String(128))
    queue_thankyou: Mapped[str | None] = mapped_column(String(128))
    queue_callerannounce: Mapped[str | None] = mapped_column(String(128))
    queue_reporthold: Mapped[str | None] = mapped_column(String(128))
    announce_frequency: Mapped[int] = _number(0)
    """Seconds between position/hold-time announcements (0 = off)."""
    announce_to_first_user: Mapped[bool | None] = mapped_column(YesNo())
    min_announce_frequency: Mapped[int | None] = mapped_column(Integer)
    announce_round_seconds: Mapped[int] = _number(0)
    announce_holdtime: Mapped[str] = _text(128, "no")
    announce_position: Mapped[str] = _text(128, "no")
    announce_position_limit: Mapped[int | None] = mapped_column(Integer)
    periodic_announce: Mapped[str] = _text(50)
    periodic_announce_frequency: Mapped[int] = _number(0)
    relative_periodic_announce: Mapped[bool | None] = mapped_column(YesNo())
    random_periodic_announce: Mapped[bool | None] = mapped_column(YesNo())
    retry: Mapped[int] = _number(5)
    wrapuptime: Mapped[int] = _number(0)
    penaltymemberslimit: Mapped[int | None] = mapped_column(Integer)
    autofill: Mapped[bool | None] = mapped_column(YesNo())
    monitor_type: Mapped[str] = _text(128, "MixMonitor")
    autopause: Mapped[str | None] = mapped_column(String(3))
    autopausedelay: Mapped[int | None] = mapped_column(Integer)
    autopausebusy: Mapped[bool | None] = mapped_column(YesNo())
    autopauseunavail: Mapped[bool | None] = mapped_column(YesNo())
    maxlen: Mapped[int] = _number(0)
    """Most callers waiting at once (0 = no limit)."""
    servicelevel: Mapped[int] = _number(20)
    strategy: Mapped[str] = _text(16, "rrmemory")
    joinempty: Mapped[str] = _text(128, "yes")
    leavewhenempty: Mapped[str] = _text(128, "no")
    reportholdtime: Mapped[bool] = _switch(False)
    memberdelay: Mapped[int] = _number(0)
    weight: Mapped[int] = _number(0)
    timeoutrestart: Mapped[bool] = _switch(False)
    defaultrule: Mapped[str | None] = mapped_column(String(128))
    timeoutpriority: Mapped[str | None] = mapped_column(String(128))
    log_restricted_caller_id: Mapped[bool | None] = mapped_column(YesNo())
    eventmemberstatus: Mapped[bool] = _switch(False)
    eventwhencalled: Mapped[bool] = _switch(True)

    # The product's own columns (ignored by app_queue) ----------------------------------------------
    did: Mapped[str] = _text(255)
    """The campaign's numbers; several are joined by '&'."""
    direction: Mapped[str] = _text(8, "inbound")
    interactions: Mapped[str] = _text(255)
    email: Mapped[str] = _text(255)
    thresholds: Mapped[str] = _text(255)
    welcome: Mapped[str] = _text(512)
    """Audio played to a caller on entering (inbound)."""
    outofhours: Mapped[str] = _text(255)
    """Audio played outside the schedule (inbound), before voicemail or hang-up."""
    schedule: Mapped[str] = _text(1024, "sun-sat;00:00-23:59")
    form: Mapped[str] = _text(1024)
    quality: Mapped[str] = _text(255)
    dialstring: Mapped[str] = _text(255)
    voicemail: Mapped[str] = _text(20)
    """Voicemail box used out of hours; empty = none (hang up)."""
    callerid: Mapped[str] = _text(1024)
    """Outbound caller-id rules (``PREFIX#CALLERID-RANDINI-RANDFIN``, one per line)."""
    record: Mapped[bool] = _boolean(False)
    virtual_hold: Mapped[bool] = _boolean(False)
    virtual_hold_key: Mapped[str] = _text(1)
    """With virtual hold: the key a waiting caller presses to be called back ('' = none)."""
    virtual_hold_hangup: Mapped[bool] = _boolean(False)
    """With virtual hold: hanging up while waiting also keeps the caller's place."""
    queue_survey: Mapped[int] = _number(0)
    queue_timeout: Mapped[int] = _number(0)
    """Longest wait in seconds before the caller leaves the campaign (0 = no limit)."""
    auto_answer: Mapped[bool] = _boolean(False)
    show_dispositions: Mapped[int] = _number(0)
    queue_breaks: Mapped[str] = _text(1024)
    screen_recording: Mapped[int] = _number(0)
    language: Mapped[str] = _text(16, "en")
    transfer_campaigns: Mapped[str] = _text(1024)

    members: Mapped[list[CampaignMember]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CampaignMember.uniqueid",
    )

    def dids(self) -> list[str]:
        """The campaign's numbers, one per entry (the column joins them with '&')."""
        return [part.strip() for part in self.did.split("&") if part.strip()]

    def to_getqueues(self) -> dict[str, Any]:
        """This campaign as one object of the seed's getqueues answer (same keys, order and types)."""
        return {
            "name": self.name,
            "musiconhold": self.musiconhold,
            "announce": self.announce,
            "context": self.context,
            "timeout": self.timeout,
            "monitorType": self.monitor_type,
            "monitorFormat": self.monitor_format,
            "announceFrequency": self.announce_frequency,
            "announceRoundSeconds": self.announce_round_seconds,
            "announceHoldtime": self.announce_holdtime,
            "announcePosition": self.announce_position,
            "retry": self.retry,
            "wrapuptime": self.wrapuptime,
            "maxlen": self.maxlen,
            "servicelevel": self.servicelevel,
            "strategy": self.strategy,
            "joinempty": self.joinempty,
            "leavewhenempty": self.leavewhenempty,
            "eventmemberstatus": bool(self.eventmemberstatus),
            "eventwhencalled": bool(self.eventwhencalled),
            "reportholdtime": bool(self.reportholdtime),
            "memberdelay": self.memberdelay,
            "weight": self.weight,
            "timeoutrestart": bool(self.timeoutrestart),
            "ringinuse": bool(self.ringinuse),
            "setinterfacevar": bool(self.setinterfacevar),
            "periodicAnnounce": self.periodic_announce,
            "periodicAnnounceFrequency": str(self.periodic_announce_frequency),
            "did": self.did,
            "direction": self.direction,
            "interactions": self.interactions,
            "email": self.email,
            "thresholds": self.thresholds,
            "welcome": self.welcome,
            "schedule": self.schedule,
            "form": self.form,
            "quality": self.quality,
            "dialstring": self.dialstring,
            "voicemail": self.voicemail,
            "queue_survey": self.queue_survey,
            "queue_timeout": self.queue_timeout,
            "auto_answer": "TRUE" if self.auto_answer else "FALSE",
            "show_dispositions": self.show_dispositions,
            "queue_breaks": self.queue_breaks,
            "screen_recording": self.screen_recording,
            "language": self.language,
            "transferCampaigns": self.transfer_campaigns,
        }


class CampaignMember(Base):
    """An agent's phone in a campaign, as Asterisk's realtime ``queue_members`` row.

    ``interface`` is a dialable device such as ``PJSIP/1001``; ``membername`` is the agent's username.
    A NULL ``wrapuptime``/``ringinuse`` means "as the campaign says".
    """

    __tablename__ = "queue_members"
    __table_args__ = (
        UniqueConstraint("queue_name", "interface"),
        Index("ix_queue_members_interface", "interface"),
        *_flags("queue_members", "ringinuse"),
        TABLE_OPTIONS,
    )

    uniqueid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue_name: Mapped[str] = mapped_column(
        String(128), ForeignKey("queues.name", ondelete="CASCADE", onupdate="CASCADE"), nullable=False
    )
    interface: Mapped[str] = mapped_column(String(80), nullable=False)
    membername: Mapped[str] = _text(80)
    state_interface: Mapped[str | None] = mapped_column(String(80))
    penalty: Mapped[int] = _number(0)
    paused: Mapped[int] = _number(0)
    reason_paused: Mapped[str | None] = mapped_column(String(80))
    wrapuptime: Mapped[int | None] = mapped_column(Integer)
    ringinuse: Mapped[bool | None] = mapped_column(YesNo())

    campaign: Mapped[Campaign] = relationship(back_populates="members")


# --------------------------------------------------------------------------------------------------
# People and API access
# --------------------------------------------------------------------------------------------------


class User(Base):
    """A person who signs in: an agent, a supervisor or an administrative user.

    Only an argon2id hash of the password is stored. ``phone`` is the agent's extension (its
    ``ps_*`` rows carry the same id); the remaining phone attributes are the seed's "sip" object's.
    """

    __tablename__ = "users"
    __table_args__ = (_one_of("users", "role", ROLES), TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    fullname: Mapped[str] = _text(128)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = _text(16, "agent")
    phone: Mapped[str | None] = mapped_column(String(40), unique=True)
    email: Mapped[str] = _text(255)
    active: Mapped[bool] = _boolean(True)
    phonetype: Mapped[str] = _text(32, "SoftPhone")
    record: Mapped[str] = _text(16)
    log_level: Mapped[str] = _text(16, "SEVERE")
    limite: Mapped[int] = _number(0)
    did: Mapped[str] = _text(40)
    failed_logins: Mapped[int] = _number(0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, server_default=func.current_timestamp()
    )

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiToken(Base):
    """An API token; only its SHA-256 (hex) is stored, so a leaked table grants nothing."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"), TABLE_OPTIONS)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, server_default=func.current_timestamp()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    revoked: Mapped[bool] = _boolean(False)

    user: Mapped[User] = relationship(back_populates="tokens")


# --------------------------------------------------------------------------------------------------
# Records: queue_log, cdr, auditory
# --------------------------------------------------------------------------------------------------


class QueueLogEntry(Base):
    """One queue event in Asterisk's queue_log form (``time|callid|queuename|agent|event|data1..5``).

    ``record_id`` is set by OpenContact's writer and is unique, so replaying a journal never writes
    an event twice; rows written by Asterisk itself leave it NULL.
    """

    __tablename__ = "queue_log"
    __table_args__ = (
        Index("ix_queue_log_time", "time"),
        Index("ix_queue_log_callid", "callid"),
        Index("ix_queue_log_queuename_time", "queuename", "time"),
        Index("ix_queue_log_agent_time", "agent", "time"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    origid: Mapped[int | None] = mapped_column(BigInteger)
    time: Mapped[datetime] = mapped_column(_MICRO_DATETIME, nullable=False)
    callid: Mapped[str] = _text(80)
    queuename: Mapped[str] = _text(256)
    agent: Mapped[str] = _text(80)
    event: Mapped[str] = mapped_column(String(32), nullable=False)
    data1: Mapped[str] = _text(100)
    data2: Mapped[str] = _text(100)
    data3: Mapped[str] = _text(100)
    data4: Mapped[str] = _text(100)
    data5: Mapped[str] = _text(100)
    record_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class Cdr(Base):
    """One call detail record: Asterisk's ``cdr`` columns plus the seed's (guid, campaign, contact...).

    ``id`` is added because Asterisk's table has no key; ``record_id`` makes replay idempotent.
    """

    __tablename__ = "cdr"
    __table_args__ = (
        Index("ix_cdr_calldate", "calldate"),
        Index("ix_cdr_campaign_calldate", "campaign", "calldate"),
        Index("ix_cdr_guid", "guid"),
        Index("ix_cdr_uniqueid", "uniqueid"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    calldate: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    accountcode: Mapped[str] = _text(80)
    src: Mapped[str] = _text(80)
    dst: Mapped[str] = _text(80)
    dcontext: Mapped[str] = _text(80)
    clid: Mapped[str] = _text(80)
    channel: Mapped[str] = _text(80)
    dstchannel: Mapped[str] = _text(80)
    lastapp: Mapped[str] = _text(80)
    lastdata: Mapped[str] = _text(80)
    start: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[datetime | None] = mapped_column(DateTime)
    end: Mapped[datetime | None] = mapped_column(DateTime)
    duration: Mapped[int] = _number(0)
    billsec: Mapped[int] = _number(0)
    disposition: Mapped[str] = _text(45)
    amaflags: Mapped[str] = _text(45)
    userfield: Mapped[str] = _text(256)
    uniqueid: Mapped[str] = _text(150)
    linkedid: Mapped[str] = _text(150)
    peeraccount: Mapped[str] = _text(80)
    sequence: Mapped[int] = _number(0)
    type: Mapped[str] = _text(20)
    guid: Mapped[str] = _text(64)
    causecode: Mapped[str] = _text(16)
    campaign: Mapped[str] = _text(128)
    charged_balance: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    real_balance: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    note: Mapped[str] = _text(255)
    contact: Mapped[str] = _text(64)
    finishtime: Mapped[datetime | None] = mapped_column(DateTime)
    rating: Mapped[float | None] = mapped_column(Float)
    dialerbase: Mapped[str] = _text(128)
    record_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class AuditEntry(Base):
    """Who did what, from where (the seed's AUDITORY: datetime, userid, host, action).

    Python names are ``time``, ``user`` and ``ip``; the columns keep the seed's names. ``detail`` is a
    JSON text with secrets already removed.
    """

    __tablename__ = "auditory"
    __table_args__ = (
        Index("ix_auditory_datetime", "datetime"),
        Index("ix_auditory_userid_datetime", "userid", "datetime"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column("datetime", _MICRO_DATETIME, nullable=False, default=utcnow)
    user: Mapped[str] = mapped_column("userid", String(80), nullable=False, default="", server_default="")
    ip: Mapped[str] = mapped_column("host", String(45), nullable=False, default="", server_default="")
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target: Mapped[str] = _text(255)
    detail: Mapped[str | None] = mapped_column(Text)


class Holiday(Base):
    """A date on which campaigns are closed whatever their weekly schedule says: callers get the
    out-of-hours treatment. ``campaign`` names one campaign; empty means every campaign."""

    __tablename__ = "holidays"
    __table_args__ = (
        UniqueConstraint("date", "campaign", name="uq_holidays_date_campaign"),
        Index("ix_holidays_campaign", "campaign"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The closed day (column ``date``).
    day: Mapped[date] = mapped_column("date", Date, nullable=False)
    campaign: Mapped[str] = _text(128)
    description: Mapped[str] = _text(255)


# --------------------------------------------------------------------------------------------------
# Phones: per-extension features and voicemail
# --------------------------------------------------------------------------------------------------


class PhoneFeatures(Base):
    """What a phone user switched on with feature codes, and what the admin allows the extension.

    Forward targets are stored as dialed ("214", or "94013864" for 9 + number); an empty text means
    "off". ``call_classes`` is a comma-separated list of the classes the extension may dial out to
    (internal, local, cellular, international).
    """

    __tablename__ = "phone_features"
    __table_args__ = (Index("ix_phone_features_pickup_group", "pickup_group"), TABLE_OPTIONS)

    extension: Mapped[str] = mapped_column(String(40), primary_key=True)
    dnd: Mapped[bool] = _boolean(False)
    voicemail_enabled: Mapped[bool] = _boolean(False)
    forward_all: Mapped[str] = _text(80)
    forward_busy: Mapped[str] = _text(80)
    forward_noanswer: Mapped[str] = _text(80)
    noanswer_seconds: Mapped[int] = _number(20)
    pickup_group: Mapped[str] = _text(40)
    call_classes: Mapped[str] = _text(128, "internal,local")
    record_on_demand: Mapped[bool] = _boolean(True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, onupdate=utcnow, server_default=func.current_timestamp()
    )


class VoicemailBox(Base):
    """A voicemail box, one per extension. The password is stored only as a hash (see passwords.py)."""

    __tablename__ = "voicemail_boxes"
    __table_args__ = (TABLE_OPTIONS,)

    extension: Mapped[str] = mapped_column(String(40), primary_key=True)
    password_hash: Mapped[str] = _text(255)
    email: Mapped[str] = _text(255)
    attach: Mapped[bool] = _boolean(True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, server_default=func.current_timestamp()
    )

    messages: Mapped[list[VoicemailMessage]] = relationship(
        back_populates="mailbox", cascade="all, delete-orphan", passive_deletes=True
    )


class VoicemailMessage(Base):
    """One left message: ``recording`` is the name of the ARI stored recording holding the audio."""

    __tablename__ = "voicemail_messages"
    __table_args__ = (Index("ix_voicemail_messages_box_received_at", "box", "received_at"), TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    box: Mapped[str] = mapped_column(
        String(40),
        ForeignKey("voicemail_boxes.extension", ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
    )
    recording: Mapped[str] = mapped_column(String(128), nullable=False)
    caller: Mapped[str] = _text(80)
    received_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    duration: Mapped[int] = _number(0)
    heard: Mapped[bool] = _boolean(False)

    mailbox: Mapped[VoicemailBox] = relationship(back_populates="messages")


# --------------------------------------------------------------------------------------------------
# Agents' desk: chat (the seed's SIPCHAT), favourite contacts, call dispositions
# --------------------------------------------------------------------------------------------------


class ChatMessage(Base):
    """One chat message as one reader sees it (the seed's SIPCHAT plus read tracking).

    A message is stored once per reader, the sender included (``dstagent`` is the reader), so
    history and unread counts are one indexed query each for direct, broadcast and campaign group
    messages alike. ``dest`` is the seed's destination: the other agent, ``*`` (broadcast) or
    ``campaign:<name>``; ``msgid`` ties the copies of one message together. ``status`` says whether
    the reader was online when it was sent (SUCCESS) or reads it later (FAILURE).
    """

    __tablename__ = "sipchat"
    __table_args__ = (
        Index("ix_sipchat_dstagent_readdate", "dstagent", "readdate"),
        Index("ix_sipchat_dstagent_dest_id", "dstagent", "dest", "id"),
        Index("ix_sipchat_msgid", "msgid"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    datecreated: Mapped[datetime] = mapped_column(_MICRO_DATETIME, nullable=False, default=utcnow)
    src: Mapped[str] = _text(80)
    dest: Mapped[str] = _text(160)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    srcagent: Mapped[str] = _text(80)
    dstagent: Mapped[str] = _text(80)
    status: Mapped[str] = _text(16, "SUCCESS")
    msgid: Mapped[str] = _text(32)
    readdate: Mapped[datetime | None] = mapped_column(DateTime)


class ContactFavourite(Base):
    """An agent's favourite contacts (the softphone's Favourites list)."""

    __tablename__ = "contact_favourites"
    __table_args__ = (TABLE_OPTIONS,)

    owner: Mapped[str] = mapped_column(String(80), primary_key=True)
    contact: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, default=utcnow, server_default=func.current_timestamp()
    )


class CallDisposition(Base):
    """The result an agent gave a call: three levels, comment, extra data, callback (DispositionCall)."""

    __tablename__ = "dispositions"
    __table_args__ = (
        Index("ix_dispositions_guid", "guid"),
        Index("ix_dispositions_campaign_datetime", "campaign", "datetime"),
        Index("ix_dispositions_schedule", "schedule"),
        TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column("datetime", DateTime, nullable=False, default=utcnow)
    campaign: Mapped[str] = _text(128)
    agent: Mapped[str] = _text(80)
    callerid: Mapped[str] = _text(80)
    guid: Mapped[str] = _text(64)
    l1: Mapped[str] = _text(128)
    l2: Mapped[str] = _text(128)
    l3: Mapped[str] = _text(128)
    d1: Mapped[str] = _text(255)
    d2: Mapped[str] = _text(255)
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    schedule: Mapped[datetime | None] = mapped_column(DateTime)
    camptoreschedule: Mapped[str] = _text(128)
    tag: Mapped[str] = _text(128)
