"""Schemas of the seed's /Integra/resources forms, with the seed's own parameter names.

Forms from existing integrations may carry extra keys; those are ignored (EXCLUDE) rather than refused,
since the seed's clients were never told to leave them out. Every key the routes use is validated.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from admin_api.schemas.common import (
    CAMPAIGN_NAME,
    INTERFACE,
    PHONE,
    USERNAME,
    FlexibleInt,
    FlexibleText,
    required_text,
)


class SeedForm(Schema):
    class Meta:
        unknown = EXCLUDE


class GetUserTokenForm(SeedForm):
    user = required_text(64)
    password = required_text(256)


class AgentLoginForm(SeedForm):
    agent = required_text(64)
    password = required_text(256)


class AgentLogoffForm(SeedForm):
    agent = fields.String(required=True, validate=USERNAME)
    interface = fields.String(load_default="", validate=validate.Length(max=128))
    message = fields.String(load_default="", validate=validate.Length(max=255))


class HangupPhoneForm(SeedForm):
    phone = fields.String(required=True, validate=PHONE)


class AgentCallForm(SeedForm):
    """The seed's AgentCall: ``outqueue`` is the outbound campaign, ``destination`` the number."""

    callerid = fields.String(load_default="", validate=validate.Regexp(r"^\+?[0-9]{0,32}$"))
    agent = fields.String(required=True, validate=USERNAME)
    phone = fields.String(load_default="", validate=validate.Regexp(r"^[0-9A-Za-z_.-]{0,40}$"))
    tech = fields.String(load_default="SIP", validate=validate.OneOf(["SIP", "PJSIP", "sip", "pjsip", ""]))
    context = fields.String(load_default="", validate=validate.Length(max=80))
    outqueue = fields.String(required=True, validate=CAMPAIGN_NAME)
    destination = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9*#]{1,32}$"))


class AddSipForm(SeedForm):
    phone = required_text(20000)

    @pre_load
    def accept_capitalised_name(self, data: Any, **kwargs: Any) -> Any:
        """The seed's table calls the parameter "Phone", its examples "phone": take either."""
        if isinstance(data, dict) and "phone" not in data and "Phone" in data:
            return {**data, "phone": data["Phone"]}
        return data


class SipPhone(SeedForm):
    """The JSON object inside addsip's `phone`: the seed's SIP peer fields.

    Required: accountcode (the agent's user name), name (the extension), secret (the password),
    fullname. The seed's description also names them userName, phoneNumber and password; both
    spellings are accepted.
    """

    accountcode = fields.String(required=True, validate=USERNAME)
    name = fields.String(required=True, validate=PHONE)
    secret = required_text(256)
    fullname = required_text(128)
    callerid = fields.String(load_default="", validate=validate.Length(max=80))
    defaultuser = fields.String(load_default="", validate=validate.Length(max=40))
    context = fields.String(load_default="", validate=validate.Length(max=80))
    allow = fields.String(load_default="alaw;ulaw", validate=validate.Length(max=200))
    disallow = fields.String(load_default="all", validate=validate.Length(max=200))
    dtmfmode = fields.String(
        load_default="rfc2833", validate=validate.OneOf(["rfc2833", "rfc4733", "inband", "info", "auto", ""])
    )
    transport = fields.String(
        load_default="udp", validate=validate.OneOf(["udp", "tcp", "tls", "ws", "wss", ""])
    )
    encryption = FlexibleText(load_default="no")
    language = fields.String(load_default="", validate=validate.Length(max=20))
    mailbox = fields.String(load_default="", validate=validate.Length(max=80))
    email = fields.String(load_default="", validate=validate.Length(max=128))
    did = fields.String(load_default="", validate=validate.Length(max=80))
    callgroup = fields.String(load_default="", validate=validate.Length(max=80))
    pickupgroup = fields.String(load_default="", validate=validate.Length(max=80))
    qualify = FlexibleText(load_default="yes")
    nat = FlexibleText(load_default="yes")
    host = fields.String(load_default="dynamic", validate=validate.Length(max=80))
    type = fields.String(load_default="friend", validate=validate.Length(max=20))
    phonetype = fields.String(load_default="SoftPhone", validate=validate.Length(max=40))
    record = fields.String(load_default="", validate=validate.Length(max=40))
    limite = FlexibleInt(load_default=0)
    id = FlexibleInt(load_default=None, allow_none=True)

    @pre_load
    def accept_described_names(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        renamed = dict(data)
        for described, peer_field in (
            ("userName", "accountcode"),
            ("phoneNumber", "name"),
            ("password", "secret"),
        ):
            if described in renamed and peer_field not in renamed:
                renamed[peer_field] = renamed[described]
        return renamed


class AddQueueMemberForm(SeedForm):
    queuemember = required_text(200000)


class QueueMemberEntry(SeedForm):
    """One element of addqueuemember's JSON array."""

    membername = fields.String(required=True, validate=USERNAME)
    queue_name = fields.String(required=True, data_key="queueName", validate=CAMPAIGN_NAME)
    interface = fields.String(required=True, data_key="interface1", validate=INTERFACE)
    penalty = FlexibleInt(load_default=0, validate=validate.Range(min=0, max=1000))
    paused = FlexibleInt(load_default=0, validate=validate.OneOf([0, 1]))


class GetQueuesForm(SeedForm):
    lastrow = fields.String(load_default="", validate=validate.Length(max=128))
