"""The files in asterisk_conf/ that a stock Asterisk 22 loads: their syntax, and the invariants that tie
them to the dialplan, the database schema and the Stasis app."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from admin_api.config import ApiConfig
from ari_sim.dialplan import Dialplan
from datastore.database import create_schema, make_engine, session_factory
from datastore.demo import load_demo_data
from datastore.models import Base, Campaign, PsEndpoint, sip_phone_rows
from stasis_app.settings import AriSettings

from .conf_files import ConfFile, ConfSection, parse_conf

REPO = Path(__file__).resolve().parents[2]
CONF_DIR = REPO / "asterisk_conf"
SHIPPED = (
    "ari.conf",
    "extconfig.conf",
    "features.conf",
    "http.conf",
    "logger.conf",
    "modules.conf",
    "musiconhold.conf",
    "pjsip.conf",
    "res_odbc.conf",
    "rtp.conf",
    "sorcery.conf",
)
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def conf(name: str) -> ConfFile:
    parsed = parse_conf(CONF_DIR / name)
    assert parsed.errors == [], parsed.errors
    return parsed


@pytest.fixture(scope="module")
def dialplan() -> Dialplan:
    return Dialplan.load(REPO / "dialplan" / "extensions.conf")


@pytest.fixture(scope="module")
def demo_session() -> Iterator[Session]:
    """The embedded demo data, in a throw-away SQLite database (only its values are read)."""
    engine = make_engine("sqlite://")
    create_schema(engine)
    with session_factory(engine)() as session:
        load_demo_data(session)
        session.flush()
        yield session
    engine.dispose()


def schema_sql_tables() -> set[str]:
    text = (REPO / "sql" / "mysql" / "schema.sql").read_text(encoding="utf-8")
    return set(re.findall(r"CREATE TABLE(?: IF NOT EXISTS)? `?(\w+)`?", text, flags=re.IGNORECASE))


def host_of(bind: str) -> str:
    """The address part of `host`, `host:port`, `[v6]:port`."""
    if bind.startswith("["):
        return bind[1 : bind.index("]")]
    return bind.rsplit(":", 1)[0] if bind.count(":") == 1 else bind


# --- the set of files and their syntax -------------------------------------------------------------


def test_exactly_the_documented_files_are_shipped() -> None:
    assert sorted(p.name for p in CONF_DIR.iterdir()) == sorted(SHIPPED)
    docs = (REPO / "docs" / "asterisk.md").read_text(encoding="utf-8")
    for name in SHIPPED:
        assert f"`{name}`" in docs, f"{name} is not described in docs/asterisk.md"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_line_is_a_section_an_option_or_a_comment(name: str) -> None:
    parsed = conf(name)
    assert parsed.sections, f"{name} has no section"
    assert parsed.includes == [], "shipped files must be self-contained"


#: Absolute paths a shipped file may name: Asterisk's own standard directories. Anything else would
#: be one machine's layout.
ASTERISK_DIRECTORIES = ("/etc/asterisk/", "/var/lib/asterisk/", "/var/spool/asterisk/", "/var/log/asterisk")
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.>])/[A-Za-z][\w.-]*(?:/[\w.*-]+)+")


@pytest.mark.parametrize("name", SHIPPED)
def test_no_machine_paths(name: str) -> None:
    text = (CONF_DIR / name).read_text(encoding="utf-8")
    for path in ABSOLUTE_PATH.findall(text):
        assert path.startswith(ASTERISK_DIRECTORIES), (
            f"{name} names {path}, outside Asterisk's own directories"
        )


def test_the_path_check_sees_a_foreign_directory() -> None:
    assert ABSOLUTE_PATH.findall("directory = /srv/sounds/moh") == ["/srv/sounds/moh"]
    assert ABSOLUTE_PATH.findall("url = https://example.org/a/b ; /ws ; <data dir>/moh/x") == []


def test_the_reader_rejects_an_option_outside_a_section(tmp_path: Path) -> None:
    bad = tmp_path / "features.conf"
    bad.write_text("; comment\nblindxfer =\n[featuremap]\natxfer =\n  not an option\n", encoding="utf-8")
    parsed = parse_conf(bad)
    assert len(parsed.errors) == 2
    assert "before any [section]" in parsed.errors[0]
    assert "not an option" in parsed.errors[1]


# --- ARI and HTTP ----------------------------------------------------------------------------------


def test_http_server_and_its_tls_listener_are_on_loopback() -> None:
    http = conf("http.conf")
    general = http.only("general")
    assert http.value(general, "enabled") == "yes"
    assert http.value(general, "bindaddr") in LOOPBACK
    assert http.value(general, "enablestatic") == "no"
    if http.value(general, "tlsenable") == "yes":
        tls_bind = http.value(general, "tlsbindaddr") or ""
        assert host_of(tls_bind) in LOOPBACK, tls_bind
        for key in ("tlscertfile", "tlsprivatekey"):
            option = next(o for o in http.options(general) if o.key == key)
            assert "PLACEHOLDER" in option.comment, f"{key} must be marked as a placeholder"


def test_ari_user_of_the_stasis_app_exists_and_cross_origin_is_closed() -> None:
    ari = conf("ari.conf")
    general = ari.only("general")
    assert ari.value(general, "enabled") == "yes"
    assert ari.value(general, "allowed_origins") == ""
    users = [s for s in ari.sections if ari.value(s, "type") == "user"]
    assert [u.name for u in users] == ["opencontact"]
    user = users[0]
    assert ari.value(user, "read_only") == "no"
    assert ari.value(user, "password")


def test_dialplan_hands_calls_to_the_app_name_the_stasis_app_registers(dialplan: Dialplan) -> None:
    assert dialplan.globals["OC_APP"] == AriSettings().app


# --- PJSIP -----------------------------------------------------------------------------------------


def test_transports_udp_5060_and_wss() -> None:
    pjsip = conf("pjsip.conf")
    transports = {s.name: s for s in pjsip.of_type("transport")}
    protocols = {pjsip.value(s, "protocol") for s in transports.values()}
    assert protocols == {"udp", "wss"}
    udp = next(s for s in transports.values() if pjsip.value(s, "protocol") == "udp")
    assert (pjsip.value(udp, "bind") or "").endswith(":5060")
    ipaddress.ip_address(host_of(pjsip.value(udp, "bind") or ""))
    for endpoint in pjsip.of_type("endpoint"):
        transport = pjsip.value(endpoint, "transport")
        assert transport is None or transport in transports, (endpoint.name, transport)


def test_every_pjsip_object_reference_resolves() -> None:
    pjsip = conf("pjsip.conf")
    aors = {s.name for s in pjsip.of_type("aor")}
    auths = {s.name for s in pjsip.of_type("auth")}
    endpoints = {s.name for s in pjsip.of_type("endpoint")}
    assert endpoints, "the example carrier trunk is missing"
    for endpoint in pjsip.of_type("endpoint"):
        for aor in (pjsip.value(endpoint, "aors") or "").split(","):
            assert aor.strip() in aors, (endpoint.name, aor)
        for key in ("auth", "outbound_auth"):
            name = pjsip.value(endpoint, key)
            assert name is None or name in auths, (endpoint.name, key, name)
    for identify in pjsip.of_type("identify"):
        assert pjsip.value(identify, "endpoint") in endpoints
        assert pjsip.values(identify, "match")


def test_file_holds_carriers_only_phones_come_from_the_database() -> None:
    pjsip = conf("pjsip.conf")
    for endpoint in pjsip.of_type("endpoint"):
        assert pjsip.value(endpoint, "context") == "from-trunk", endpoint.name
    assert pjsip.of_type("auth") == [], "no clear-text phone secrets in pjsip.conf"


def test_every_context_an_endpoint_can_have_exists_in_the_dialplan(
    dialplan: Dialplan, demo_session: Session
) -> None:
    pjsip = conf("pjsip.conf")
    contexts = {pjsip.value(s, "context") for s in pjsip.of_type("endpoint")}
    contexts |= {pjsip.value(s, "context") for s in pjsip.sections if s.is_template}
    endpoint, _auth, _aor = sip_phone_rows("1999", "secret-1999")
    contexts.add(endpoint.context)
    contexts.add(ApiConfig.from_mapping({"database_url": "sqlite://"}).phone_context)
    contexts |= {row.context for row in demo_session.query(PsEndpoint)}
    contexts.discard(None)
    missing = {c for c in contexts if c not in dialplan.contexts}
    assert not missing, (
        f"endpoint contexts missing from dialplan/extensions.conf: {sorted(map(str, missing))}"
    )


def test_realm_fallback_matches_the_realm_of_stored_credentials() -> None:
    pjsip = conf("pjsip.conf")
    _endpoint, auth, _aor = sip_phone_rows("1999", "secret-1999")
    assert auth.auth_type == "md5" and auth.password is None
    assert pjsip.value(pjsip.only("global"), "default_realm") == auth.realm


# --- realtime: sorcery -> extconfig -> res_odbc -> schema ----------------------------------------


def realtime_families() -> dict[str, list[str]]:
    """PJSIP object type -> the wizards sorcery.conf lists for it, in order."""
    sorcery = conf("sorcery.conf")
    section = sorcery.only("res_pjsip")
    found: dict[str, list[str]] = {}
    for option in sorcery.options(section):
        found.setdefault(option.key, []).append(option.value)
    return found


def test_phones_endpoints_auths_aors_come_from_realtime_after_the_file() -> None:
    wizards = realtime_families()
    expected = {"endpoint": "ps_endpoints", "auth": "ps_auths", "aor": "ps_aors"}
    assert set(wizards) == set(expected)
    for object_type, family in expected.items():
        assert wizards[object_type] == [
            f"config,pjsip.conf,criteria=type={object_type}",
            f"realtime,{family}",
        ]


def test_every_realtime_family_reaches_an_enabled_odbc_connection_and_a_schema_table() -> None:
    extconfig = conf("extconfig.conf")
    odbc = conf("res_odbc.conf")
    settings = extconfig.only("settings")
    mapped = {o.key: [part.strip() for part in o.value.split(",")] for o in extconfig.options(settings)}
    families = {
        w.split(",")[1] for ws in realtime_families().values() for w in ws if w.startswith("realtime,")
    }
    assert families <= set(mapped)
    model_tables = set(Base.metadata.tables)
    sql_tables = schema_sql_tables()
    for family, parts in mapped.items():
        driver, connection = parts[0], parts[1]
        table = parts[2] if len(parts) > 2 else family
        assert driver == "odbc", family
        section = odbc.only(connection)
        assert odbc.value(section, "enabled") == "yes"
        assert odbc.value(section, "dsn")
        assert table in model_tables, f"{family}: table {table} is not in datastore/models.py"
        assert table in sql_tables, f"{family}: table {table} is not in sql/mysql/schema.sql"
    assert {"queues", "queue_members"} <= set(mapped), "campaigns readable by app_queue for comparison"
    assert "queue_log" not in mapped and "cdr" not in mapped, "the Stasis app alone writes these"


def test_odbc_connections_recover_quickly_after_a_database_outage() -> None:
    odbc = conf("res_odbc.conf")
    for section in odbc.sections:
        assert odbc.value(section, "pre-connect") == "yes"
        assert odbc.value(section, "sanitysql")
        assert int(odbc.value(section, "negative_connection_cache") or "300") <= 60


# --- music on hold ---------------------------------------------------------------------------------


def test_music_classes_cover_every_campaign_default_and_the_demo(demo_session: Session) -> None:
    moh = conf("musiconhold.conf")
    classes = {s.name for s in moh.sections if s.name != "general"}
    assert "default" in classes and len(classes) >= 2
    used = {row.musiconhold for row in demo_session.query(Campaign)}
    assert used, "the demo has no campaign"
    column_default = Campaign.__table__.c.musiconhold.default
    assert column_default is not None
    used.add(str(getattr(column_default, "arg", "")))
    assert used <= classes, used - classes
    for name in classes:
        section = moh.only(name)
        assert moh.value(section, "mode") == "files"
        assert moh.value(section, "directory")


# --- modules ---------------------------------------------------------------------------------------

NEEDED = {
    "app_stasis.so",
    "res_stasis.so",
    "res_ari.so",
    "res_ari_events.so",
    "res_ari_channels.so",
    "res_ari_bridges.so",
    "res_http_websocket.so",
    "chan_pjsip.so",
    "res_pjsip.so",
    "res_pjsip_transport_websocket.so",
    "res_sorcery_realtime.so",
    "res_odbc.so",
    "res_config_odbc.so",
    "res_musiconhold.so",
    "pbx_config.so",
}
MUST_NOT_RUN = {"res_parking.so", "app_confbridge.so", "app_agent_pool.so", "pbx_ael.so", "pbx_lua.so"}
# Dialplan applications and the module providing each (the ones built into the core are left out).
APP_MODULES = {
    "Stasis": "app_stasis.so",
    "Playback": "app_playback.so",
    "AMD": "app_amd.so",
    "VoiceMail": "app_voicemail.so",
    "Queue": "app_queue.so",
    "ConfBridge": "app_confbridge.so",
}


def module_lists() -> tuple[str | None, set[str], set[str], set[str]]:
    modules = conf("modules.conf")
    section = modules.only("modules")
    return (
        modules.value(section, "autoload"),
        set(modules.values(section, "require")),
        set(modules.values(section, "noload")),
        set(modules.values(section, "load")),
    )


def test_modules_the_app_needs_are_required_and_asterisk_features_are_not_loaded() -> None:
    autoload, required, noload, _load = module_lists()
    assert autoload == "yes"
    assert required >= NEEDED, NEEDED - required
    assert noload >= MUST_NOT_RUN, MUST_NOT_RUN - noload
    assert not required & noload
    assert all(name.endswith(".so") for name in required | noload)
    # chan_sip left Asterisk in version 21; naming it would only hide a mistake.
    assert not any(name.startswith("chan_sip.") for name in required | noload)
    # app_queue stays loadable (not required, not refused) to compare campaigns with Asterisk's queue.
    assert "app_queue.so" not in required | noload


def test_every_application_the_dialplan_calls_is_loadable(dialplan: Dialplan) -> None:
    _autoload, _required, noload, _load = module_lists()
    used = {
        step.app
        for ctx in dialplan.contexts.values()
        for ext in ctx.extensions
        for step in ext.steps.values()
    }
    assert "Stasis" in used
    for app in used:
        module = APP_MODULES.get(app)
        assert module is None or module not in noload, f"{app} needs {module}, which modules.conf refuses"


# --- features, RTP, logging ------------------------------------------------------------------------

FEATUREMAP_OPTIONS = {"blindxfer", "atxfer", "disconnect", "automixmon", "parkcall"}


def test_no_dtmf_feature_code_or_pickup_extension_catches_digits_before_the_app() -> None:
    features = conf("features.conf")
    featuremap = features.only("featuremap")
    keys = {o.key for o in features.options(featuremap)}
    # Asterisk 22 throws the section away on an unknown option (and then uses # and * again).
    assert keys == FEATUREMAP_OPTIONS
    assert all(o.value == "" for o in features.options(featuremap))
    assert features.value(features.only("general"), "pickupexten") == ""
    application_map = features.named("applicationmap")
    assert all(features.options(s) == [] for s in application_map)


def test_rtp_port_range() -> None:
    rtp = conf("rtp.conf")
    general = rtp.only("general")
    start, end = int(rtp.value(general, "rtpstart") or "0"), int(rtp.value(general, "rtpend") or "0")
    assert 1024 <= start < end <= 65535
    assert end - start >= 1000, "two ports per call leg: the range bounds concurrent calls"
    assert rtp.value(general, "icesupport") == "yes"


def test_logger_writes_a_console_and_a_file_log() -> None:
    logger = conf("logger.conf")
    logfiles: ConfSection = logger.only("logfiles")
    keys = {o.key for o in logger.options(logfiles)}
    assert "console" in keys and "messages.log" in keys


# --- message waiting ---------------------------------------------------------------------------------

MWI_MODULES = {"res_mwi_external.so", "res_stasis_mailbox.so", "res_ari_mailboxes.so"}


def test_mailboxes_over_ari_load_and_app_voicemail_does_not() -> None:
    _autoload, required, noload, load = module_lists()
    # The voicemail sets message counts through ARI /mailboxes, which these three provide.
    assert (required | load) >= MWI_MODULES, MWI_MODULES - (required | load)
    assert not MWI_MODULES & noload
    # app_voicemail and res_mwi_external both claim Asterisk's single voicemail provider slot.
    assert "app_voicemail.so" in noload


def test_phones_subscribe_to_the_mailbox_the_voicemail_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    from stasis_app.phones.voicemail import VoicemailSettings  # noqa: PLC0415 - only this test needs it

    monkeypatch.delenv("OC_VOICEMAIL_MWI_CONTEXT", raising=False)
    endpoint, _auth, _aor = sip_phone_rows("1999", "secret-1999")
    assert endpoint.mailboxes == f"1999@{VoicemailSettings.from_env({}).mwi_context}" == "1999@opencontact"
    monkeypatch.setenv("OC_VOICEMAIL_MWI_CONTEXT", "site2")
    endpoint, _auth, _aor = sip_phone_rows("1999", "secret-1999")
    assert endpoint.mailboxes == f"1999@{VoicemailSettings.from_env().mwi_context}" == "1999@site2"
