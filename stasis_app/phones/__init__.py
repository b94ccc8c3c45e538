"""Phone features: what desk and soft phones dial (extensions, 9 + number, feature codes) and the
services behind them (forwarding, do not disturb, pickup, voicemail, recording on demand).

Modules: ``codes`` (configurable codes and the pure parser of what was dialed), ``classes`` (call
classes and per-extension permissions), ``forwarding`` (pure routing decisions), ``settings_store``
(per-extension settings, cached, backed by ``phone_features``), ``services`` (the plug-in points:
voicemail and in-call features implement its protocols) and ``internal_flow`` (the Stasis flow of
calls from phones).
"""
