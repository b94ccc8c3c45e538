"""Schemas of /api/v1/holidays: a closed date, for one campaign or (campaign empty) for all."""

from __future__ import annotations

from marshmallow import fields, validate

from admin_api.schemas.v1 import StrictSchema


class HolidayUpdate(StrictSchema):
    date = fields.Date()
    #: A campaign's name; empty: every campaign.
    campaign = fields.String(validate=validate.Length(max=128))
    description = fields.String(validate=validate.Length(max=255))


class HolidayCreate(HolidayUpdate):
    date = fields.Date(required=True)
    campaign = fields.String(load_default="", validate=validate.Length(max=128))
    description = fields.String(load_default="", validate=validate.Length(max=255))
