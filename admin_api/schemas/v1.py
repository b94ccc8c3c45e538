"""Schemas of the JSON API (/api/v1). Unknown keys are refused, so a typo is an error, not a no-op."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import String

from admin_api.schemas.common import CAMPAIGN_NAME, INTERFACE, PHONE, USERNAME
from datastore.models import DIRECTIONS, STRATEGIES, Campaign


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


_EMAIL = validate.Email(error="is not a valid e-mail address")


def optional_email(value: str) -> None:
    """Empty means "no address"; anything else must look like one."""
    if value:
        _EMAIL(value)


class PageQuery(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))


class TokenRequest(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)


class AgentUpdate(StrictSchema):
    fullname = fields.String(validate=validate.Length(min=1, max=128))
    password = fields.String(validate=validate.Length(min=1, max=256), load_only=True)
    phone = fields.String(allow_none=True, validate=PHONE)
    # The phone's SIP password; defaults to the agent's password (as the seed's addsip does).
    sip_secret = fields.String(validate=validate.Length(min=1, max=256), load_only=True)
    webrtc = fields.Boolean()
    email = fields.String(validate=[validate.Length(max=255), optional_email])
    language = fields.String(validate=validate.Length(max=40))
    active = fields.Boolean()


class AgentCreate(AgentUpdate):
    username = fields.String(required=True, validate=USERNAME)
    fullname = fields.String(required=True, validate=validate.Length(min=1, max=128))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)
    webrtc = fields.Boolean(load_default=True)
    email = fields.String(load_default="", validate=[validate.Length(max=255), optional_email])
    active = fields.Boolean(load_default=True)


DID_LIST = validate.Regexp(
    r"^$|^[0-9A-Za-z+*#_-]+(&[0-9A-Za-z+*#_-]+)*$",
    error="use numbers joined by '&', e.g. 2000&2001",
)

# Campaign settings open to the API, by kind; string lengths come from the model's columns.
CAMPAIGN_TEXT = (
    "musiconhold", "announce", "context", "monitor_type", "monitor_format", "announce_holdtime",
    "announce_position", "periodic_announce", "joinempty", "leavewhenempty", "interactions", "email",
    "thresholds", "welcome", "outofhours", "schedule", "form", "quality", "dialstring", "voicemail",
    "callerid", "queue_breaks", "language", "transfer_campaigns",
)  # fmt: skip
CAMPAIGN_NUMBERS = (
    "timeout", "announce_frequency", "announce_round_seconds", "periodic_announce_frequency", "retry",
    "wrapuptime", "maxlen", "servicelevel", "memberdelay", "weight", "queue_survey", "queue_timeout",
    "show_dispositions", "screen_recording",
)  # fmt: skip
CAMPAIGN_SWITCHES = (
    "ringinuse", "setinterfacevar", "reportholdtime", "timeoutrestart", "eventmemberstatus",
    "eventwhencalled", "record", "virtual_hold", "auto_answer",
)  # fmt: skip
CAMPAIGN_FIELDS = (
    "name",
    "strategy",
    "direction",
    "did",
    *CAMPAIGN_TEXT,
    *CAMPAIGN_NUMBERS,
    *CAMPAIGN_SWITCHES,
)


def _column_length(name: str) -> int:
    column_type = Campaign.__table__.c[name].type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length


def _campaign_fields() -> dict[str, fields.Field[Any]]:
    declared: dict[str, fields.Field[Any]] = {
        "strategy": fields.String(validate=validate.OneOf(STRATEGIES)),
        "direction": fields.String(validate=validate.OneOf(DIRECTIONS)),
        "did": fields.String(validate=[validate.Length(max=_column_length("did")), DID_LIST]),
    }
    for name in CAMPAIGN_TEXT:
        declared[name] = fields.String(validate=validate.Length(max=_column_length(name)))
    for name in CAMPAIGN_NUMBERS:
        declared[name] = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))
    for name in CAMPAIGN_SWITCHES:
        declared[name] = fields.Boolean()
    return declared


class _CampaignBase(StrictSchema):
    @validates_schema
    def timeout_is_positive(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "timeout" in data and data["timeout"] < 1:
            raise ValidationError("an agent's phone must ring at least 1 second", field_name="timeout")


CampaignUpdate: type[Schema] = _CampaignBase.from_dict(_campaign_fields(), name="CampaignUpdate")
CampaignCreate: type[Schema] = CampaignUpdate.from_dict(
    {"name": fields.String(required=True, validate=CAMPAIGN_NAME)}, name="CampaignCreate"
)


class MemberUpdate(StrictSchema):
    membername = fields.String(validate=USERNAME)
    penalty = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000))
    paused = fields.Boolean()
    wrapuptime = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=86400))
    ringinuse = fields.Boolean(allow_none=True)


class MemberCreate(MemberUpdate):
    membername = fields.String(required=True, validate=USERNAME)
    interface = fields.String(required=True, validate=INTERFACE)
    penalty = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=1000))
    paused = fields.Boolean(load_default=False)
