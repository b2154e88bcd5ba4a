//! The case dossier's stylesheet, shared by the brigade, which writes it into the dossier's
//! HTML (so a filed dossier is one self-contained page), and the gateway, whose
//! Content-Security-Policy allows this one inline stylesheet by its SHA-256 hash and no other.

/// The stylesheet of the dossier's HTML, as it stands between `<style>` and `</style>`.
pub const STYLE: &str = "body{font-family:sans-serif;max-width:60em;margin:2em auto}\
table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}\
ol.timeline li{margin-bottom:.8em}.digest{font-family:monospace;font-size:.8em;color:#555}\
pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}.bad{color:#b00}.ok{color:#070}";
