"""The ARI the simulator serves, described once and used everywhere.

The router builds its routes and validates parameters from these records, `apidocs` renders them as
Swagger 1.1 documents for clients such as aioari, and the contract tests compare them with Asterisk
22's own description so that a path, a parameter or a model field can never silently drift.

Besides what Swagger carries, a parameter may hold the message Asterisk answers when it is missing
(`missing`) or carries a value outside its allowed set (`invalid`), so the simulator's 400s read
like Asterisk's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ParamType = Literal["path", "query", "body"]
Default = str | int | bool | None


@dataclass(frozen=True)
class Param:
    """One operation parameter: where it travels, its type and what values it accepts."""

    name: str
    where: ParamType
    data_type: str
    required: bool = False
    multiple: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    default: Default = None
    #: Asterisk's 400 message when a required value is absent (None: a generic one).
    missing: str | None = None
    #: Asterisk's 400 message for a value outside `choices` or below `minimum` ({value} is replaced).
    invalid: str | None = None
    #: Asterisk ignores values outside the allowed set instead of refusing them.
    lenient: bool = False
    #: Asterisk refuses negative values although the description gives no range.
    non_negative: bool = False
    #: Described as required, but Asterisk goes on without it instead of answering 400.
    absent_ok: bool = False


@dataclass(frozen=True)
class Operation:
    """One HTTP method on one path, named `resource.nickname` like the handlers."""

    resource: str
    method: str
    path: str
    nickname: str
    response: str
    summary: str
    params: tuple[Param, ...] = ()
    errors: tuple[tuple[int, str], ...] = ()
    websocket: bool = False

    @property
    def key(self) -> str:
        return f"{self.resource}.{self.nickname}"

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class Prop:
    """One property of a JSON model."""

    name: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Model:
    """A JSON object shape; `sub_types` lists the models that extend it (Swagger 1.1 style)."""

    name: str
    resource: str
    summary: str
    props: tuple[Prop, ...]
    sub_types: tuple[str, ...] = ()
    discriminator: str | None = None

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name), None)


@dataclass(frozen=True)
class Resource:
    """One api-docs document: its operations and the models defined in it."""

    name: str
    summary: str
    operations: tuple[Operation, ...] = field(default=())
    models: tuple[Model, ...] = field(default=())


# --- compact constructors -------------------------------------------------------------------------


def _path(name: str) -> Param:
    return Param(name, "path", "string", required=True)


def _q(
    name: str,
    data_type: str = "string",
    *,
    req: bool = False,
    many: bool = False,
    choices: tuple[str, ...] = (),
    minimum: int | None = None,
    default: Default = None,
    missing: str | None = None,
    invalid: str | None = None,
    lenient: bool = False,
    non_negative: bool = False,
    absent_ok: bool = False,
) -> Param:
    return Param(
        name,
        "query",
        data_type,
        req,
        many,
        choices,
        minimum,
        default,
        missing,
        invalid,
        lenient,
        non_negative,
        absent_ok,
    )


def _body(
    name: str, data_type: str = "containers", *, req: bool = False, missing: str | None = None
) -> Param:
    return Param(name, "body", data_type, required=req, missing=missing)


def _props(spec: str, **choices: tuple[str, ...]) -> tuple[Prop, ...]:
    """Parse `"name:type! other:type"` (a `!` marks a required property)."""
    out = []
    for token in spec.split():
        name, _, kind = token.partition(":")
        required = kind.endswith("!")
        out.append(Prop(name, kind.rstrip("!"), required, choices.get(name, ())))
    return tuple(out)


def _op(  # noqa: PLR0917 - a table row reads best positionally
    resource: str,
    method: str,
    path: str,
    nickname: str,
    response: str,
    summary: str,
    *params: Param,
    errors: tuple[tuple[int, str], ...] = (),
    websocket: bool = False,
) -> Operation:
    return Operation(resource, method, path, nickname, response, summary, params, errors, websocket)


# Reasons reused by many operations.
_NO_CHAN = (404, "No such channel")
_NOT_STASIS = (409, "Channel is not in a Stasis application")
_BAD_STATE = (412, "Channel state does not allow this")
_CHAN = (_NO_CHAN, _NOT_STASIS, _BAD_STATE)
_NO_BRIDGE = (404, "No such bridge")
_BRIDGE_NOT_STASIS = (409, "Bridge is not in a Stasis application")
_BAD_REQ = (400, "Bad or missing parameter")
_NO_REC = (404, "No such recording")
_NO_MODULE = (404, "No such module is loaded")
_NO_APP = (404, "No such application")
_NO_ENDPOINT = (404, "No such endpoint")

_HANGUP_REASONS = (
    "normal",
    "busy",
    "congestion",
    "no_answer",
    "timeout",
    "rejected",
    "unallocated",
    "normal_unspecified",
    "number_incomplete",
    "codec_mismatch",
    "interworking",
    "failure",
    "answered_elsewhere",
)
_DIRECTIONS = ("both", "in", "out")
_SPY = ("none", "both", "out", "in")
_IF_EXISTS = ("fail", "overwrite", "append")
_TERMINATE_ON = ("none", "any", "*", "#")


def _originate_params(with_path_id: bool) -> tuple[Param, ...]:
    """Parameters shared by originate and originateWithId (their order follows Asterisk's)."""
    head = [_path("channelId")] if with_path_id else []
    body = [
        _q("endpoint", req=True, missing="Endpoint must be specified"),
        _q("extension"),
        _q("context"),
        _q("priority", "long"),
        _q("label"),
        _q("app"),
        _q("appArgs"),
        _q("callerId"),
        _q("timeout", "int", default=30),
        _body("variables"),
    ]
    tail = [] if with_path_id else [_q("channelId")]
    return (*head, *body, *tail, _q("otherChannelId"), _q("originator"), _q("formats"))


def _play_params(*, bridge: bool, with_path_id: bool) -> tuple[Param, ...]:
    owner = _path("bridgeId") if bridge else _path("channelId")
    ids = (_path("playbackId"),) if with_path_id else ()
    media = _q("media", req=True, many=True)
    rest: list[Param] = []
    if bridge:
        rest.append(_q("announcer_format"))
        rest.append(_q("lang"))
        rest.append(_q("offsetms", "int", minimum=0, default=0, invalid="offsetms cannot be negative"))
    else:
        rest.append(_q("lang"))
        rest.append(_q("offsetms", "int", invalid="offsetms cannot be negative", non_negative=True))
    rest.append(
        _q(
            "skipms",
            "int",
            minimum=0 if bridge else None,
            default=3000,
            invalid="skipms cannot be negative",
            non_negative=not bridge,
        )
    )
    if not with_path_id:
        rest.append(_q("playbackId"))
    return (owner, *ids, media, *rest)


def _record_params(*, bridge: bool) -> tuple[Param, ...]:
    owner = _path("bridgeId") if bridge else _path("channelId")
    extra = (_q("recorder_format"),) if bridge else ()
    return (
        owner,
        _q("name", req=True, missing="Recording name invalid"),
        _q("format", req=True),
        *extra,
        _q(
            "maxDurationSeconds",
            "int",
            minimum=0,
            default=0,
            invalid="max_duration_seconds cannot be negative",
        ),
        _q(
            "maxSilenceSeconds", "int", minimum=0, default=0, invalid="max_silence_seconds cannot be negative"
        ),
        _q("ifExists", choices=_IF_EXISTS, default="fail", invalid="ifExists invalid"),
        _q("beep", "boolean", default=False),
        _q("terminateOn", choices=_TERMINATE_ON, default="none", invalid="terminateOn invalid"),
    )


def _snoop_params(with_path_id: bool) -> tuple[Param, ...]:
    ids = (_path("snoopId"),) if with_path_id else ()
    tail = () if with_path_id else (_q("snoopId"),)
    return (
        _path("channelId"),
        *ids,
        _q("spy", choices=_SPY, default="none", invalid="Invalid direction specified for spy"),
        _q("whisper", choices=_SPY, default="none", invalid="Invalid direction specified for whisper"),
        _q("app", req=True, missing="Application name is required"),
        _q("appArgs"),
        *tail,
    )


def _var_params(owner: str, *, setting: bool) -> tuple[Param, ...]:
    head = (_path(owner), _q("variable", req=True, missing="Variable name is required"))
    if not setting:
        return head
    return (*head, _q("value"), _q("report_events", "boolean", default=False))


# --- operations -----------------------------------------------------------------------------------

_CONFIG = "/asterisk/config/dynamic/{configClass}/{objectType}/{id}"
_CONFIG_IDS = (_path("configClass"), _path("objectType"), _path("id"))
_MODULE = "/asterisk/modules/{moduleName}"
_LOG = "/asterisk/logging/{logChannelName}"

_ASTERISK_OPS = (
    _op(
        "asterisk",
        "GET",
        _CONFIG,
        "getObject",
        "List[ConfigTuple]",
        "Read one dynamic configuration object.",
        *_CONFIG_IDS,
        errors=((404, "Class, type or object not found"),),
    ),
    _op(
        "asterisk",
        "PUT",
        _CONFIG,
        "updateObject",
        "List[ConfigTuple]",
        "Create or change a dynamic configuration object.",
        *_CONFIG_IDS,
        _body("fields"),
        errors=(
            (400, "Fields missing or invalid"),
            (403, "Object may not be created or changed"),
            (404, "Class or type not found"),
        ),
    ),
    _op(
        "asterisk",
        "DELETE",
        _CONFIG,
        "deleteObject",
        "void",
        "Remove a dynamic configuration object.",
        *_CONFIG_IDS,
        errors=((403, "Object may not be removed"), (404, "Class, type or object not found")),
    ),
    _op(
        "asterisk",
        "GET",
        "/asterisk/info",
        "getInfo",
        "AsteriskInfo",
        "Describe the running system.",
        _q("only", many=True, choices=("build", "system", "config", "status"), lenient=True),
    ),
    _op("asterisk", "GET", "/asterisk/ping", "ping", "AsteriskPing", "Check that ARI answers."),
    _op("asterisk", "GET", "/asterisk/modules", "listModules", "List[Module]", "List loaded modules."),
    _op(
        "asterisk",
        "GET",
        _MODULE,
        "getModule",
        "Module",
        "Describe one loaded module.",
        _path("moduleName"),
        errors=(_NO_MODULE, (409, "Module details unavailable")),
    ),
    _op(
        "asterisk",
        "POST",
        _MODULE,
        "loadModule",
        "void",
        "Load a module.",
        _path("moduleName"),
        errors=((409, "Module could not be loaded"),),
    ),
    _op(
        "asterisk",
        "DELETE",
        _MODULE,
        "unloadModule",
        "void",
        "Unload a module.",
        _path("moduleName"),
        errors=(_NO_MODULE, (409, "Module could not be unloaded")),
    ),
    _op(
        "asterisk",
        "PUT",
        _MODULE,
        "reloadModule",
        "void",
        "Reload a module.",
        _path("moduleName"),
        errors=(_NO_MODULE, (409, "Module could not be reloaded")),
    ),
    _op("asterisk", "GET", "/asterisk/logging", "listLogChannels", "List[LogChannel]", "List log channels."),
    _op(
        "asterisk",
        "POST",
        _LOG,
        "addLog",
        "void",
        "Add a log channel.",
        _path("logChannelName"),
        _q("configuration", req=True, missing="Configuration levels are required"),
        errors=((400, "Bad configuration"), (409, "Log channel already exists")),
    ),
    _op(
        "asterisk",
        "DELETE",
        _LOG,
        "deleteLog",
        "void",
        "Remove a log channel.",
        _path("logChannelName"),
        errors=((404, "No such log channel"),),
    ),
    _op(
        "asterisk",
        "PUT",
        _LOG + "/rotate",
        "rotateLog",
        "void",
        "Rotate a log channel's file.",
        _path("logChannelName"),
        errors=((404, "No such log channel"),),
    ),
    _op(
        "asterisk",
        "GET",
        "/asterisk/variable",
        "getGlobalVar",
        "Variable",
        "Read a global variable.",
        _q("variable", req=True, missing="Variable name is required"),
        errors=(_BAD_REQ,),
    ),
    _op(
        "asterisk",
        "POST",
        "/asterisk/variable",
        "setGlobalVar",
        "void",
        "Set a global variable.",
        _q("variable", req=True, missing="Variable name is required"),
        _q("value"),
        errors=(_BAD_REQ,),
    ),
)

_TECH_RES = (_path("tech"), _path("resource"))

_ENDPOINTS_OPS = (
    _op("endpoints", "GET", "/endpoints", "list", "List[Endpoint]", "List every endpoint."),
    _op(
        "endpoints",
        "PUT",
        "/endpoints/sendMessage",
        "sendMessage",
        "void",
        "Send an out-of-call text message.",
        _q("to", req=True, missing="To must be specified"),
        _q("from", req=True),
        _q("body"),
        _body("variables"),
        errors=(_BAD_REQ, _NO_ENDPOINT),
    ),
    _op(
        "endpoints",
        "POST",
        "/endpoints/refer",
        "refer",
        "void",
        "Ask an endpoint to call elsewhere (REFER).",
        _q("to", req=True, missing="To must be specified"),
        _q("from", req=True),
        _q("refer_to", req=True),
        _q("to_self", "boolean", default=False),
        _body("variables"),
        errors=(_BAD_REQ, _NO_ENDPOINT),
    ),
    _op(
        "endpoints",
        "GET",
        "/endpoints/{tech}",
        "listByTech",
        "List[Endpoint]",
        "List the endpoints of one technology.",
        _path("tech"),
        errors=((404, "No endpoints for that technology"),),
    ),
    _op(
        "endpoints",
        "GET",
        "/endpoints/{tech}/{resource}",
        "get",
        "Endpoint",
        "Describe one endpoint.",
        *_TECH_RES,
        errors=(_BAD_REQ, _NO_ENDPOINT),
    ),
    _op(
        "endpoints",
        "PUT",
        "/endpoints/{tech}/{resource}/sendMessage",
        "sendMessageToEndpoint",
        "void",
        "Send a text message to one endpoint.",
        *_TECH_RES,
        _q("from", req=True),
        _q("body"),
        _body("variables"),
        errors=(_BAD_REQ, _NO_ENDPOINT),
    ),
    _op(
        "endpoints",
        "POST",
        "/endpoints/{tech}/{resource}/refer",
        "referToEndpoint",
        "void",
        "Ask one endpoint to call elsewhere (REFER).",
        *_TECH_RES,
        _q("from", req=True),
        _q("refer_to", req=True),
        _q("to_self", "boolean", default=False),
        _body("variables"),
        errors=(_BAD_REQ, _NO_ENDPOINT),
    ),
)

_C = "/channels/{channelId}"
_CID = _path("channelId")

_CHANNELS_OPS = (
    _op("channels", "GET", "/channels", "list", "List[Channel]", "List live channels."),
    _op(
        "channels",
        "POST",
        "/channels",
        "originate",
        "Channel",
        "Create a channel and call an endpoint.",
        *_originate_params(False),
        errors=(_BAD_REQ, (409, "Channel id already in use")),
    ),
    _op(
        "channels",
        "POST",
        "/channels/create",
        "create",
        "Channel",
        "Create a channel without dialing it.",
        _q("endpoint", req=True, missing="Endpoint must be specified"),
        _q("app", req=True),
        _q("appArgs"),
        _q("channelId"),
        _q("otherChannelId"),
        _q("originator"),
        _q("formats"),
        _body("variables"),
        errors=((409, "Channel id already in use"),),
    ),
    _op("channels", "GET", _C, "get", "Channel", "Describe one channel.", _CID, errors=(_NO_CHAN,)),
    _op(
        "channels",
        "POST",
        _C,
        "originateWithId",
        "Channel",
        "Originate with a chosen channel id.",
        *_originate_params(True),
        errors=(_BAD_REQ, (409, "Channel id already in use")),
    ),
    _op(
        "channels",
        "DELETE",
        _C,
        "hangup",
        "void",
        "Hang a channel up.",
        _CID,
        _q("reason_code"),
        _q("reason", choices=_HANGUP_REASONS, invalid="Invalid reason for hangup reason provided"),
        errors=((400, "Bad reason"), _NO_CHAN),
    ),
    _op(
        "channels",
        "POST",
        _C + "/continue",
        "continueInDialplan",
        "void",
        "Leave Stasis and go on in the dialplan.",
        _CID,
        _q("context"),
        _q("extension"),
        _q("priority", "int"),
        _q("label"),
        errors=_CHAN,
    ),
    _op(
        "channels",
        "POST",
        _C + "/move",
        "move",
        "void",
        "Hand a channel to another Stasis application.",
        _CID,
        _q("app", req=True),
        _q("appArgs"),
        errors=(_NO_CHAN, _NOT_STASIS),
    ),
    _op(
        "channels",
        "POST",
        _C + "/redirect",
        "redirect",
        "void",
        "Send a channel to another endpoint.",
        _CID,
        _q("endpoint", req=True, missing="Required parameter 'endpoint' not provided."),
        errors=((400, "Endpoint missing"), _NO_CHAN, _NOT_STASIS, (422, "Endpoint unusable"), _BAD_STATE),
    ),
    _op("channels", "POST", _C + "/answer", "answer", "void", "Answer a channel.", _CID, errors=_CHAN),
    _op("channels", "POST", _C + "/ring", "ring", "void", "Indicate ringing.", _CID, errors=_CHAN),
    _op(
        "channels", "DELETE", _C + "/ring", "ringStop", "void", "Stop indicating ringing.", _CID, errors=_CHAN
    ),
    _op(
        "channels",
        "POST",
        _C + "/progress",
        "progress",
        "void",
        "Indicate call progress.",
        _CID,
        errors=_CHAN,
    ),
    _op(
        "channels",
        "POST",
        _C + "/dtmf",
        "sendDTMF",
        "void",
        "Send DTMF digits.",
        _CID,
        _q("dtmf"),
        _q("before", "int", default=0),
        _q("between", "int", default=100),
        _q("duration", "int", default=100),
        _q("after", "int", default=0),
        errors=(_BAD_REQ, *_CHAN),
    ),
    _op(
        "channels",
        "POST",
        _C + "/mute",
        "mute",
        "void",
        "Mute audio.",
        _CID,
        _q("direction", choices=_DIRECTIONS, default="both", invalid="Invalid direction specified"),
        errors=_CHAN,
    ),
    _op(
        "channels",
        "DELETE",
        _C + "/mute",
        "unmute",
        "void",
        "Unmute audio.",
        _CID,
        _q("direction", choices=_DIRECTIONS, default="both", invalid="Invalid direction specified"),
        errors=_CHAN,
    ),
    _op("channels", "POST", _C + "/hold", "hold", "void", "Put a channel on hold.", _CID, errors=_CHAN),
    _op("channels", "DELETE", _C + "/hold", "unhold", "void", "Take a channel off hold.", _CID, errors=_CHAN),
    _op(
        "channels",
        "POST",
        _C + "/moh",
        "startMoh",
        "void",
        "Play music on hold.",
        _CID,
        _q("mohClass"),
        errors=_CHAN,
    ),
    _op("channels", "DELETE", _C + "/moh", "stopMoh", "void", "Stop music on hold.", _CID, errors=_CHAN),
    _op("channels", "POST", _C + "/silence", "startSilence", "void", "Play silence.", _CID, errors=_CHAN),
    _op(
        "channels",
        "DELETE",
        _C + "/silence",
        "stopSilence",
        "void",
        "Stop playing silence.",
        _CID,
        errors=_CHAN,
    ),
    _op(
        "channels",
        "POST",
        _C + "/play",
        "play",
        "Playback",
        "Play media to a channel.",
        *_play_params(bridge=False, with_path_id=False),
        errors=_CHAN,
    ),
    _op(
        "channels",
        "POST",
        _C + "/play/{playbackId}",
        "playWithId",
        "Playback",
        "Play media with a chosen playback id.",
        *_play_params(bridge=False, with_path_id=True),
        errors=_CHAN,
    ),
    _op(
        "channels",
        "POST",
        _C + "/record",
        "record",
        "LiveRecording",
        "Record a channel.",
        *_record_params(bridge=False),
        errors=(_BAD_REQ, _NO_CHAN, (409, "Not in Stasis, or recording name taken"), (422, "Unknown format")),
    ),
    _op(
        "channels",
        "GET",
        _C + "/variable",
        "getChannelVar",
        "Variable",
        "Read a channel variable.",
        *_var_params("channelId", setting=False),
        errors=(_BAD_REQ, _NO_CHAN, _NOT_STASIS),
    ),
    _op(
        "channels",
        "POST",
        _C + "/variable",
        "setChannelVar",
        "void",
        "Set a channel variable.",
        *_var_params("channelId", setting=True),
        errors=(_BAD_REQ, _NO_CHAN, _NOT_STASIS),
    ),
    _op(
        "channels",
        "GET",
        _C + "/variables",
        "getChannelVars",
        "Variables",
        "Read several channel variables.",
        _CID,
        _q("variables", req=True, many=True, missing="At least one variable name is required"),
        errors=(_BAD_REQ, _NO_CHAN, _NOT_STASIS),
    ),
    _op(
        "channels",
        "POST",
        _C + "/variables",
        "setChannelVars",
        "void",
        "Set several channel variables.",
        _CID,
        _body("variables", req=True, missing="The 'variables' field is required"),
        errors=(_BAD_REQ, _NO_CHAN, _NOT_STASIS),
    ),
    _op(
        "channels",
        "POST",
        _C + "/snoop",
        "snoopChannel",
        "Channel",
        "Spy on or whisper to a channel.",
        *_snoop_params(False),
        errors=(_BAD_REQ, _NO_CHAN),
    ),
    _op(
        "channels",
        "POST",
        _C + "/snoop/{snoopId}",
        "snoopChannelWithId",
        "Channel",
        "Spy or whisper with a chosen snoop channel id.",
        *_snoop_params(True),
        errors=(_BAD_REQ, _NO_CHAN),
    ),
    _op(
        "channels",
        "POST",
        _C + "/dial",
        "dial",
        "void",
        "Dial a channel made by create.",
        _CID,
        _q("caller"),
        _q("timeout", "int", minimum=0, default=0, lenient=True),
        errors=(_NO_CHAN, (409, "Channel cannot be dialed")),
    ),
    _op(
        "channels",
        "GET",
        _C + "/rtp_statistics",
        "rtpstatistics",
        "RTPstat",
        "RTP figures of a channel.",
        _CID,
        errors=(_NO_CHAN,),
    ),
    _op(
        "channels",
        "POST",
        "/channels/externalMedia",
        "externalMedia",
        "Channel",
        "Create a channel that streams media to an outside host.",
        _q("channelId"),
        _q("app", req=True, missing="app cannot be empty"),
        _body("variables"),
        _q("external_host"),
        _q("encapsulation", choices=("rtp", "audiosocket", "none"), default="rtp"),
        _q("transport", choices=("udp", "tcp", "websocket"), default="udp"),
        _q("connection_type", choices=("client", "server"), default="client"),
        _q("format", req=True, missing="format cannot be empty"),
        _q("direction", choices=("both",), default="both", invalid="Invalid direction specified"),
        _q("data"),
        _q("transport_data"),
        errors=(_BAD_REQ, (409, "Channel id already in use")),
    ),
    _op(
        "channels",
        "POST",
        _C + "/transfer_progress",
        "transfer_progress",
        "void",
        "Report how a transfer is going.",
        _CID,
        _q("states", req=True, missing="states must not be empty"),
        errors=(_BAD_REQ, *_CHAN),
    ),
)

_B = "/bridges/{bridgeId}"
_BID = _path("bridgeId")
_BRIDGE_ERRS = (_NO_BRIDGE, _BRIDGE_NOT_STASIS)

_BRIDGES_OPS = (
    _op("bridges", "GET", "/bridges", "list", "List[Bridge]", "List bridges."),
    _op(
        "bridges",
        "POST",
        "/bridges",
        "create",
        "Bridge",
        "Create a bridge.",
        _q("type"),
        _q("bridgeId"),
        _q("name"),
        _body("variables"),
        errors=((409, "Bridge id already in use"),),
    ),
    _op(
        "bridges",
        "POST",
        _B,
        "createWithId",
        "Bridge",
        "Create a bridge with a chosen id.",
        _q("type"),
        _BID,
        _q("name"),
        _body("variables"),
        errors=((409, "Bridge id already in use"),),
    ),
    _op("bridges", "GET", _B, "get", "Bridge", "Describe one bridge.", _BID, errors=(_NO_BRIDGE,)),
    _op("bridges", "DELETE", _B, "destroy", "void", "Destroy a bridge.", _BID, errors=(_NO_BRIDGE,)),
    _op(
        "bridges",
        "GET",
        _B + "/variable",
        "getBridgeVar",
        "Variable",
        "Read a bridge variable.",
        *_var_params("bridgeId", setting=False),
        errors=(_BAD_REQ, *_BRIDGE_ERRS),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/variable",
        "setBridgeVar",
        "void",
        "Set a bridge variable.",
        *_var_params("bridgeId", setting=True),
        errors=(_BAD_REQ, *_BRIDGE_ERRS),
    ),
    _op(
        "bridges",
        "GET",
        _B + "/variables",
        "getBridgeVars",
        "Variables",
        "Read several bridge variables.",
        _BID,
        _q("variables", req=True, many=True, missing="At least one variable name is required"),
        errors=(_BAD_REQ, *_BRIDGE_ERRS),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/variables",
        "setBridgeVars",
        "void",
        "Set several bridge variables.",
        _BID,
        _body("variables", req=True, missing="The 'variables' field is required"),
        errors=(_BAD_REQ, *_BRIDGE_ERRS),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/addChannel",
        "addChannel",
        "void",
        "Put channels into a bridge.",
        _BID,
        _q("channel", req=True, many=True, missing="Missing parameter channel"),
        _q("role"),
        _q("absorbDTMF", "boolean", default=False),
        _q("mute", "boolean", default=False),
        _q("inhibitConnectedLineUpdates", "boolean", default=False),
        errors=((400, "Channel missing or unknown"), *_BRIDGE_ERRS, (422, "Channel not in Stasis")),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/removeChannel",
        "removeChannel",
        "void",
        "Take channels out of a bridge.",
        _BID,
        _q("channel", req=True, many=True, missing="Missing parameter channel"),
        errors=((400, "Channel missing or unknown"), *_BRIDGE_ERRS, (422, "Channel not in this bridge")),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/videoSource/{channelId}",
        "setVideoSource",
        "void",
        "Choose whose video the bridge shows.",
        _BID,
        _CID,
        errors=(
            (404, "No such bridge or channel"),
            (409, "Channel not in Stasis"),
            (422, "Channel not in bridge"),
        ),
    ),
    _op(
        "bridges",
        "DELETE",
        _B + "/videoSource",
        "clearVideoSource",
        "void",
        "Let the bridge pick video again.",
        _BID,
        errors=(_NO_BRIDGE,),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/moh",
        "startMoh",
        "void",
        "Play music on hold into a bridge.",
        _BID,
        _q("mohClass"),
        errors=_BRIDGE_ERRS,
    ),
    _op(
        "bridges",
        "DELETE",
        _B + "/moh",
        "stopMoh",
        "void",
        "Stop music on hold in a bridge.",
        _BID,
        errors=(_NO_BRIDGE, (409, "Bridge is not playing music")),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/play",
        "play",
        "Playback",
        "Play media into a bridge.",
        *_play_params(bridge=True, with_path_id=False),
        errors=(*_BRIDGE_ERRS, (422, "Unknown format")),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/play/{playbackId}",
        "playWithId",
        "Playback",
        "Play media into a bridge with a chosen playback id.",
        *_play_params(bridge=True, with_path_id=True),
        errors=(*_BRIDGE_ERRS, (422, "Unknown format")),
    ),
    _op(
        "bridges",
        "POST",
        _B + "/record",
        "record",
        "LiveRecording",
        "Record a bridge.",
        *_record_params(bridge=True),
        errors=(
            _BAD_REQ,
            _NO_BRIDGE,
            (409, "Not in Stasis, or recording name taken"),
            (422, "Unknown format"),
        ),
    ),
)

_STORED = "/recordings/stored/{recordingName}"
_LIVE = "/recordings/live/{recordingName}"
_RNAME = _path("recordingName")
_NOT_RECORDING = (409, "Recording is not in progress")

_RECORDINGS_OPS = (
    _op(
        "recordings",
        "GET",
        "/recordings/stored",
        "listStored",
        "List[StoredRecording]",
        "List finished recordings.",
    ),
    _op(
        "recordings",
        "GET",
        _STORED,
        "getStored",
        "StoredRecording",
        "Describe a finished recording.",
        _RNAME,
        errors=(_NO_REC,),
    ),
    _op(
        "recordings",
        "DELETE",
        _STORED,
        "deleteStored",
        "void",
        "Delete a finished recording.",
        _RNAME,
        errors=(_NO_REC,),
    ),
    _op(
        "recordings",
        "GET",
        _STORED + "/file",
        "getStoredFile",
        "binary",
        "Download a finished recording.",
        _RNAME,
        errors=((403, "File cannot be read"), _NO_REC),
    ),
    _op(
        "recordings",
        "POST",
        _STORED + "/copy",
        "copyStored",
        "StoredRecording",
        "Copy a finished recording.",
        _RNAME,
        _q("destinationRecordingName", req=True),
        errors=(_NO_REC, (409, "Destination already exists")),
    ),
    _op(
        "recordings",
        "GET",
        _LIVE,
        "getLive",
        "LiveRecording",
        "Describe a recording in progress.",
        _RNAME,
        errors=(_NO_REC,),
    ),
    _op(
        "recordings",
        "DELETE",
        _LIVE,
        "cancel",
        "void",
        "Stop a recording and throw it away.",
        _RNAME,
        errors=(_NO_REC,),
    ),
    _op(
        "recordings",
        "POST",
        _LIVE + "/stop",
        "stop",
        "void",
        "Stop a recording and keep it.",
        _RNAME,
        errors=(_NO_REC,),
    ),
    _op(
        "recordings",
        "POST",
        _LIVE + "/pause",
        "pause",
        "void",
        "Pause a recording.",
        _RNAME,
        errors=(_NO_REC, _NOT_RECORDING),
    ),
    _op(
        "recordings",
        "DELETE",
        _LIVE + "/pause",
        "unpause",
        "void",
        "Resume a paused recording.",
        _RNAME,
        errors=(_NO_REC, _NOT_RECORDING),
    ),
    _op(
        "recordings",
        "POST",
        _LIVE + "/mute",
        "mute",
        "void",
        "Record silence for now.",
        _RNAME,
        errors=(_NO_REC, _NOT_RECORDING),
    ),
    _op(
        "recordings",
        "DELETE",
        _LIVE + "/mute",
        "unmute",
        "void",
        "Record sound again.",
        _RNAME,
        errors=(_NO_REC, _NOT_RECORDING),
    ),
)

_SOUNDS_OPS = (
    _op(
        "sounds", "GET", "/sounds", "list", "List[Sound]", "List installed sounds.", _q("lang"), _q("format")
    ),
    _op("sounds", "GET", "/sounds/{soundId}", "get", "Sound", "Describe one sound.", _path("soundId")),
)

_PLAYBACKS_OPS = (
    _op(
        "playbacks",
        "GET",
        "/playbacks/{playbackId}",
        "get",
        "Playback",
        "Describe a playback.",
        _path("playbackId"),
        errors=((404, "No such playback"),),
    ),
    _op(
        "playbacks",
        "DELETE",
        "/playbacks/{playbackId}",
        "stop",
        "void",
        "Stop a playback.",
        _path("playbackId"),
        errors=((404, "No such playback"),),
    ),
    _op(
        "playbacks",
        "POST",
        "/playbacks/{playbackId}/control",
        "control",
        "void",
        "Pause, skip or restart a playback.",
        _path("playbackId"),
        _q(
            "operation",
            req=True,
            choices=("restart", "pause", "unpause", "reverse", "forward"),
            missing="Missing operation",
            invalid="Invalid operation {value}",
        ),
        errors=((400, "Unknown operation"), (404, "No such playback"), (409, "Playback cannot do that now")),
    ),
)

_DEVICE_STATES = (
    "NOT_INUSE",
    "INUSE",
    "BUSY",
    "INVALID",
    "UNAVAILABLE",
    "RINGING",
    "RINGINUSE",
    "ONHOLD",
)

_DEVICE_STATES_OPS = (
    _op(
        "deviceStates",
        "GET",
        "/deviceStates",
        "list",
        "List[DeviceState]",
        "List device states controlled by ARI.",
    ),
    _op(
        "deviceStates",
        "GET",
        "/deviceStates/{deviceName}",
        "get",
        "DeviceState",
        "Read one device state.",
        _path("deviceName"),
    ),
    _op(
        "deviceStates",
        "PUT",
        "/deviceStates/{deviceName}",
        "update",
        "void",
        "Change a device state.",
        _path("deviceName"),
        _q("deviceState", req=True, choices=_DEVICE_STATES),
        errors=((404, "Device name missing"), (409, "Device is not controlled by ARI")),
    ),
    _op(
        "deviceStates",
        "DELETE",
        "/deviceStates/{deviceName}",
        "delete",
        "void",
        "Forget a device state.",
        _path("deviceName"),
        errors=((404, "Device name missing"), (409, "Device is not controlled by ARI")),
    ),
)

_MAILBOXES_OPS = (
    _op("mailboxes", "GET", "/mailboxes", "list", "List[Mailbox]", "List mailboxes controlled by ARI."),
    _op(
        "mailboxes",
        "GET",
        "/mailboxes/{mailboxName}",
        "get",
        "Mailbox",
        "Read one mailbox.",
        _path("mailboxName"),
        errors=((404, "No such mailbox"),),
    ),
    _op(
        "mailboxes",
        "PUT",
        "/mailboxes/{mailboxName}",
        "update",
        "void",
        "Set a mailbox's message counts.",
        _path("mailboxName"),
        # Described as required, yet Asterisk takes a missing count as 0 instead of refusing it.
        _q("oldMessages", "int", req=True, absent_ok=True),
        _q("newMessages", "int", req=True, absent_ok=True),
        errors=((404, "No such mailbox"),),
    ),
    _op(
        "mailboxes",
        "DELETE",
        "/mailboxes/{mailboxName}",
        "delete",
        "void",
        "Remove a mailbox.",
        _path("mailboxName"),
        errors=((404, "No such mailbox"),),
    ),
)

_EVENTS_OPS = (
    _op(
        "events",
        "GET",
        "/events",
        "eventWebsocket",
        "Message",
        "Open the event stream of applications.",
        _q("app", req=True, many=True),
        _q("subscribeAll", "boolean"),
        websocket=True,
    ),
    _op(
        "events",
        "POST",
        "/events/user/{eventName}",
        "userEvent",
        "void",
        "Raise a user-defined event.",
        _path("eventName"),
        _q("application", req=True, missing="Missing parameter application"),
        _q("source", many=True),
        _body("variables"),
        errors=(_NO_APP, (422, "Event source not found"), (400, "Bad event source or data")),
    ),
    _op(
        "events",
        "POST",
        "/events/claim",
        "claimChannel",
        "void",
        "Claim a broadcast channel for an application.",
        _q("channelId", req=True, missing="channelId parameter is required"),
        _q("application", req=True, missing="application parameter is required"),
        errors=((404, "Channel not found or not being broadcast"), (409, "Channel already claimed")),
    ),
)

_APP = "/applications/{applicationName}"
_APPLICATIONS_OPS = (
    _op("applications", "GET", "/applications", "list", "List[Application]", "List registered applications."),
    _op(
        "applications",
        "GET",
        _APP,
        "get",
        "Application",
        "Describe one application.",
        _path("applicationName"),
        errors=(_NO_APP,),
    ),
    _op(
        "applications",
        "POST",
        _APP + "/subscription",
        "subscribe",
        "Application",
        "Subscribe to an event source.",
        _path("applicationName"),
        _q("eventSource", req=True, many=True, missing="Missing parameter eventSource"),
        errors=((400, "Event source missing or malformed"), _NO_APP, (422, "Event source not found")),
    ),
    _op(
        "applications",
        "DELETE",
        _APP + "/subscription",
        "unsubscribe",
        "Application",
        "Unsubscribe from an event source.",
        _path("applicationName"),
        _q("eventSource", req=True, many=True, missing="Missing parameter eventSource"),
        errors=(
            (400, "Event source missing or malformed"),
            _NO_APP,
            (409, "Source used by another app"),
            (422, "Event source was not subscribed"),
        ),
    ),
    _op(
        "applications",
        "PUT",
        _APP + "/eventFilter",
        "filter",
        "Application",
        "Limit the events an application gets.",
        _path("applicationName"),
        _body("filter", "object"),
        errors=((400, "Bad filter"), _NO_APP),
    ),
)

# --- models ---------------------------------------------------------------------------------------

_CHANNEL_STATES = (
    "Down",
    "Rsrved",
    "OffHook",
    "Dialing",
    "Ring",
    "Ringing",
    "Up",
    "Busy",
    "Dialing Offhook",
    "Pre-ring",
    "Unknown",
)

_ASTERISK_MODELS = (
    Model(
        "BuildInfo",
        "asterisk",
        "How the binary was built.",
        _props("os:string! kernel:string! options:string! machine:string! date:string! user:string!"),
    ),
    Model("SystemInfo", "asterisk", "Version and entity id.", _props("version:string! entity_id:string!")),
    Model("SetId", "asterisk", "User and group the process runs as.", _props("user:string! group:string!")),
    Model(
        "ConfigInfo",
        "asterisk",
        "Main configuration values.",
        _props(
            "name:string! default_language:string! max_channels:int max_open_files:int max_load:double "
            "setid:SetId!"
        ),
    ),
    Model(
        "StatusInfo",
        "asterisk",
        "Start and reload times.",
        _props("startup_time:Date! last_reload_time:Date!"),
    ),
    Model(
        "AsteriskInfo",
        "asterisk",
        "Everything getInfo can report.",
        _props("build:BuildInfo system:SystemInfo config:ConfigInfo status:StatusInfo"),
    ),
    Model(
        "AsteriskPing",
        "asterisk",
        "Answer to a ping.",
        _props("asterisk_id:string! ping:string! timestamp:string!"),
    ),
    Model(
        "Module",
        "asterisk",
        "A loaded module.",
        _props("name:string! description:string! use_count:int! status:string! support_level:string!"),
    ),
    Model(
        "LogChannel",
        "asterisk",
        "A log channel.",
        _props("channel:string! type:string! status:string! configuration:string!"),
    ),
    Model("Variable", "asterisk", "One variable's value.", _props("value:string!")),
    Model("Variables", "asterisk", "Several variables' values.", _props("variables:object!")),
    Model(
        "ConfigTuple", "asterisk", "One configuration attribute.", _props("attribute:string! value:string!")
    ),
)

_ENDPOINTS_MODELS = (
    Model(
        "Endpoint",
        "endpoints",
        "A phone, trunk or other thing channels connect to.",
        _props(
            "technology:string! resource:string! state:string channel_ids:List[string]!",
            state=("unknown", "offline", "online"),
        ),
    ),
    Model(
        "TextMessage",
        "endpoints",
        "An out-of-call text message.",
        _props("from:string! to:string! body:string! variables:object"),
    ),
)

_CHANNELS_MODELS = (
    Model("Dialed", "channels", "A dialed channel (no fields).", ()),
    Model(
        "DialplanCEP",
        "channels",
        "A dialplan position.",
        _props("context:string! exten:string! priority:long! app_name:string! app_data:string!"),
    ),
    Model("CallerID", "channels", "A name and number.", _props("name:string! number:string!")),
    Model(
        "RTPstat",
        "channels",
        "RTP counters of a channel.",
        _props(
            "txcount:int! rxcount:int! txjitter:double rxjitter:double "
            "remote_maxjitter:double remote_minjitter:double remote_normdevjitter:double "
            "remote_stdevjitter:double local_maxjitter:double local_minjitter:double "
            "local_normdevjitter:double local_stdevjitter:double txploss:int! rxploss:int! "
            "remote_maxrxploss:double remote_minrxploss:double remote_normdevrxploss:double "
            "remote_stdevrxploss:double local_maxrxploss:double local_minrxploss:double "
            "local_normdevrxploss:double local_stdevrxploss:double rtt:double maxrtt:double minrtt:double "
            "normdevrtt:double stdevrtt:double local_ssrc:int! remote_ssrc:int! txoctetcount:int! "
            "rxoctetcount:int! channel_uniqueid:string!"
        ),
    ),
    Model(
        "Channel",
        "channels",
        "A call leg.",
        _props(
            "id:string! protocol_id:string! name:string! state:string! caller:CallerID! connected:CallerID! "
            "accountcode:string! dialplan:DialplanCEP! creationtime:Date! language:string! "
            "channelvars:object caller_rdnis:string tenantid:string",
            state=_CHANNEL_STATES,
        ),
    ),
)

_BRIDGES_MODELS = (
    Model(
        "Bridge",
        "bridges",
        "A place where channels hear each other.",
        _props(
            "id:string! technology:string! bridge_type:string! bridge_class:string! creator:string! "
            "name:string! channels:List[string]! video_mode:string video_source_id:string "
            "creationtime:Date! bridgevars:object",
            bridge_type=("mixing", "holding"),
        ),
    ),
)

_RECORDINGS_MODELS = (
    Model(
        "StoredRecording",
        "recordings",
        "A finished recording on disk.",
        _props("name:string! format:string!"),
    ),
    Model(
        "LiveRecording",
        "recordings",
        "A recording in progress or just ended.",
        _props(
            "name:string! format:string! target_uri:string! state:string! duration:int "
            "talking_duration:int silence_duration:int cause:string",
            state=("queued", "recording", "paused", "done", "failed", "canceled"),
        ),
    ),
)

_SOUNDS_MODELS = (
    Model(
        "FormatLangPair", "sounds", "A language and a file format.", _props("language:string! format:string!")
    ),
    Model(
        "Sound",
        "sounds",
        "An installed sound.",
        _props("id:string! text:string formats:List[FormatLangPair]!"),
    ),
)

_PLAYBACKS_MODELS = (
    Model(
        "Playback",
        "playbacks",
        "Media being played to a channel or bridge.",
        _props(
            "id:string! media_uri:string! next_media_uri:string target_uri:string! language:string "
            "state:string!",
            state=("queued", "playing", "continuing", "done", "failed"),
        ),
    ),
)

_DEVICE_STATES_MODELS = (
    Model(
        "DeviceState",
        "deviceStates",
        "A device state set through ARI.",
        _props("name:string! state:string!", state=("UNKNOWN", *_DEVICE_STATES)),
    ),
)

_MAILBOXES_MODELS = (
    Model(
        "Mailbox",
        "mailboxes",
        "Message counts of a mailbox.",
        _props("name:string! old_messages:int! new_messages:int!"),
    ),
)

_APPLICATIONS_MODELS = (
    Model(
        "Application",
        "applications",
        "A Stasis application and what it listens to.",
        _props(
            "name:string! channel_ids:List[string]! bridge_ids:List[string]! endpoint_ids:List[string]! "
            "device_names:List[string]! events_allowed:List[object]! events_disallowed:List[object]!"
        ),
    ),
)

#: Event names in the order Asterisk lists them as subtypes of Event.
EVENT_TYPES: tuple[str, ...] = (
    "DeviceStateChanged",
    "PlaybackStarted",
    "PlaybackContinuing",
    "PlaybackFinished",
    "RecordingStarted",
    "RecordingFinished",
    "RecordingFailed",
    "ApplicationMoveFailed",
    "ApplicationRegistered",
    "ApplicationUnregistered",
    "ApplicationReplaced",
    "BridgeCreated",
    "BridgeDestroyed",
    "BridgeMerged",
    "BridgeBlindTransfer",
    "BridgeAttendedTransfer",
    "BridgeVideoSourceChanged",
    "ChannelCreated",
    "ChannelDestroyed",
    "ChannelEnteredBridge",
    "ChannelLeftBridge",
    "ChannelStateChange",
    "ChannelDtmfReceived",
    "ChannelDialplan",
    "ChannelCallerId",
    "ChannelUserevent",
    "ChannelHangupRequest",
    "ChannelVarset",
    "ChannelToneDetected",
    "ChannelTalkingStarted",
    "ChannelTalkingFinished",
    "ChannelHold",
    "ChannelUnhold",
    "ContactStatusChange",
    "EndpointStateChange",
    "Dial",
    "StasisEnd",
    "StasisStart",
    "TextMessageReceived",
    "ChannelConnectedLine",
    "PeerStatusChange",
    "ChannelTransfer",
    "RESTResponse",
    "CallBroadcast",
    "CallClaimed",
)


def _ev(name: str, summary: str, spec: str = "", **choices: tuple[str, ...]) -> Model:
    return Model(name, "events", summary, _props(spec, **choices))


_EVENTS_MODELS = (
    Model(
        "Message",
        "events",
        "Base of everything sent on the event stream.",
        _props("type:string! asterisk_id:string"),
        sub_types=("MissingParams", "Event"),
        discriminator="type",
    ),
    _ev("MissingParams", "A request lacked required parameters.", "params:List[string]!"),
    Model(
        "Event",
        "events",
        "Base of all events.",
        _props("application:string! timestamp:Date!"),
        sub_types=EVENT_TYPES,
    ),
    _ev(
        "ContactInfo",
        "A contact's reachability.",
        "uri:string! contact_status:string! aor:string! roundtrip_usec:string",
        contact_status=("Unreachable", "Reachable", "Unknown", "NonQualified", "Removed"),
    ),
    _ev(
        "Peer", "A peer's status.", "peer_status:string! cause:string address:string port:string time:string"
    ),
    _ev("DeviceStateChanged", "A device state changed.", "device_state:DeviceState!"),
    _ev("PlaybackStarted", "A playback began.", "playback:Playback!"),
    _ev("PlaybackContinuing", "A playback moved to its next media.", "playback:Playback!"),
    _ev("PlaybackFinished", "A playback ended.", "playback:Playback!"),
    _ev("RecordingStarted", "A recording began.", "recording:LiveRecording!"),
    _ev("RecordingFinished", "A recording ended.", "recording:LiveRecording!"),
    _ev("RecordingFailed", "A recording failed.", "recording:LiveRecording!"),
    _ev(
        "ApplicationMoveFailed",
        "A move to another application failed.",
        "channel:Channel! destination:string! args:List[string]!",
    ),
    _ev("ApplicationRegistered", "An application was registered."),
    _ev("ApplicationUnregistered", "An application was unregistered."),
    _ev("ApplicationReplaced", "Another connection took the application over."),
    _ev("BridgeCreated", "A bridge was created.", "bridge:Bridge!"),
    _ev("BridgeDestroyed", "A bridge was destroyed.", "bridge:Bridge!"),
    _ev("BridgeMerged", "Two bridges became one.", "bridge:Bridge! bridge_from:Bridge!"),
    _ev(
        "BridgeVideoSourceChanged",
        "A bridge's video source changed.",
        "bridge:Bridge! old_video_source_id:string",
    ),
    _ev(
        "BridgeBlindTransfer",
        "A blind transfer happened.",
        "channel:Channel! replace_channel:Channel transferee:Channel exten:string! context:string! "
        "result:string! "
        "is_external:boolean! bridge:Bridge",
    ),
    _ev(
        "BridgeAttendedTransfer",
        "An attended transfer happened.",
        "transferer_first_leg:Channel! transferer_second_leg:Channel! replace_channel:Channel "
        "transferee:Channel "
        "transfer_target:Channel result:string! is_external:boolean! transferer_first_leg_bridge:Bridge "
        "transferer_second_leg_bridge:Bridge destination_type:string! destination_bridge:string "
        "destination_application:string destination_link_first_leg:Channel "
        "destination_link_second_leg:Channel "
        "destination_threeway_channel:Channel destination_threeway_bridge:Bridge",
    ),
    _ev("ChannelCreated", "A channel was created.", "channel:Channel!"),
    _ev(
        "ChannelDestroyed",
        "A channel is gone.",
        "cause:int! cause_txt:string! tech_cause:int channel:Channel!",
    ),
    _ev("ChannelEnteredBridge", "A channel joined a bridge.", "bridge:Bridge! channel:Channel"),
    _ev("ChannelLeftBridge", "A channel left a bridge.", "bridge:Bridge! channel:Channel!"),
    _ev("ChannelStateChange", "A channel's state changed.", "channel:Channel!"),
    _ev("ChannelDtmfReceived", "A DTMF digit arrived.", "digit:string! duration_ms:int! channel:Channel!"),
    _ev(
        "ChannelDialplan",
        "A channel's dialplan position changed.",
        "channel:Channel! dialplan_app:string! dialplan_app_data:string!",
    ),
    _ev(
        "ChannelCallerId",
        "A channel's caller id changed.",
        "caller_presentation:int! caller_presentation_txt:string! channel:Channel!",
    ),
    _ev(
        "ChannelUserevent",
        "A user-defined event.",
        "eventname:string! channel:Channel bridge:Bridge endpoint:Endpoint userevent:object!",
    ),
    _ev(
        "ChannelHangupRequest",
        "Someone asked a channel to hang up.",
        "cause:int tech_cause:int soft:boolean channel:Channel!",
    ),
    _ev("ChannelVarset", "A variable was set.", "variable:string! value:string! channel:Channel"),
    _ev("ChannelHold", "A channel went on hold.", "channel:Channel! musicclass:string"),
    _ev("ChannelUnhold", "A channel came off hold.", "channel:Channel!"),
    _ev("ChannelToneDetected", "A tone was detected.", "channel:Channel!"),
    _ev("ChannelTalkingStarted", "Talking began on a channel.", "channel:Channel!"),
    _ev("ChannelTalkingFinished", "Talking stopped on a channel.", "channel:Channel! duration:int!"),
    _ev("ContactStatusChange", "A contact's status changed.", "endpoint:Endpoint! contact_info:ContactInfo!"),
    _ev("PeerStatusChange", "A peer's status changed.", "endpoint:Endpoint! peer:Peer!"),
    _ev("EndpointStateChange", "An endpoint's state changed.", "endpoint:Endpoint!"),
    _ev(
        "Dial",
        "Progress of a dial.",
        "caller:Channel peer:Channel! forward:string forwarded:Channel dialstring:string dialstatus:string!",
    ),
    _ev("StasisEnd", "A channel left the application.", "channel:Channel!"),
    _ev(
        "StasisStart",
        "A channel entered the application.",
        "args:List[string]! channel:Channel! replace_channel:Channel",
    ),
    _ev("TextMessageReceived", "A text message arrived.", "message:TextMessage! endpoint:Endpoint"),
    _ev("ChannelConnectedLine", "A channel's connected line changed.", "channel:Channel!"),
    _ev(
        "ChannelTransfer",
        "A transfer was requested (REFER).",
        "state:string refer_to:ReferTo! referred_by:ReferredBy!",
    ),
    _ev(
        "ReferTo",
        "Where a transfer goes.",
        "requested_destination:RequiredDestination! destination_channel:Channel connected_channel:Channel "
        "bridge:Bridge",
    ),
    _ev(
        "ReferredBy",
        "Who asked for a transfer.",
        "source_channel:Channel! connected_channel:Channel bridge:Bridge",
    ),
    _ev(
        "RequiredDestination",
        "The destination a transfer asked for.",
        "protocol_id:string destination:string additional_protocol_params:List[AdditionalParam]",
    ),
    _ev("AdditionalParam", "An extra protocol parameter.", "parameter_name:string! parameter_value:string!"),
    _ev("RESTHeader", "A header of a request sent over the websocket.", "name:string! value:string!"),
    _ev(
        "RESTQueryStringParameter",
        "A query parameter of a request sent over the websocket.",
        "name:string! value:string!",
    ),
    _ev(
        "RESTRequest",
        "A request sent over the websocket.",
        "type:string! transaction_id:string! request_id:string! method:string! uri:string! "
        "content_type:string "
        "query_strings:List[RESTQueryStringParameter] message_body:string",
    ),
    _ev(
        "RESTResponse",
        "The answer to a request sent over the websocket.",
        "transaction_id:string! request_id:string! status_code:int! reason_phrase:string! uri:string! "
        "content_type:string message_body:string",
    ),
    _ev(
        "CallBroadcast",
        "A call is offered to several applications.",
        "channel:Channel! caller:string called:string",
    ),
    _ev("CallClaimed", "An application took a broadcast call.", "channel:Channel! winner_app:string!"),
)

#: The api-docs documents, in the order Asterisk lists them in resources.json.
RESOURCES: tuple[Resource, ...] = (
    Resource("asterisk", "The Asterisk system itself", _ASTERISK_OPS, _ASTERISK_MODELS),
    Resource("endpoints", "Endpoints", _ENDPOINTS_OPS, _ENDPOINTS_MODELS),
    Resource("channels", "Channels", _CHANNELS_OPS, _CHANNELS_MODELS),
    Resource("bridges", "Bridges", _BRIDGES_OPS, _BRIDGES_MODELS),
    Resource("recordings", "Recordings", _RECORDINGS_OPS, _RECORDINGS_MODELS),
    Resource("sounds", "Sounds", _SOUNDS_OPS, _SOUNDS_MODELS),
    Resource("playbacks", "Playbacks", _PLAYBACKS_OPS, _PLAYBACKS_MODELS),
    Resource("deviceStates", "Device states", _DEVICE_STATES_OPS, _DEVICE_STATES_MODELS),
    Resource("mailboxes", "Mailboxes", _MAILBOXES_OPS, _MAILBOXES_MODELS),
    Resource("events", "Event stream and user events", _EVENTS_OPS, _EVENTS_MODELS),
    Resource("applications", "Stasis applications", _APPLICATIONS_OPS, _APPLICATIONS_MODELS),
)

#: Version numbers reported in the documents (those of Asterisk 22's ARI).
API_VERSION = "10.0.0"
SWAGGER_VERSION = "1.1"

OPERATIONS: tuple[Operation, ...] = tuple(op for res in RESOURCES for op in res.operations)
OPERATIONS_BY_KEY: dict[str, Operation] = {op.key: op for op in OPERATIONS}
MODELS: dict[str, Model] = {m.name: m for res in RESOURCES for m in res.models}
RESOURCES_BY_NAME: dict[str, Resource] = {res.name: res for res in RESOURCES}


def operation(key: str) -> Operation:
    """The operation named `resource.nickname` (KeyError when ARI has no such operation)."""
    return OPERATIONS_BY_KEY[key]
