/* Connect Share officer console: times in the hub's time zone, always 24-hour.
 *
 * Every time on the page is shown as "YYYY-MM-DD HH:MM[:SS]" in the hub's zone (named in the
 * top bar), whatever the browser's own zone or locale; times are typed the same way.
 */
"use strict";

(() => {
  const CS = (window.ConnectShare = window.ConnectShare || {});
  const pad = (n) => String(n).padStart(2, "0");
  let zone = "UTC";
  let parts = null; // Intl formatter for the zone

  function setZone(name) {
    try {
      parts = new Intl.DateTimeFormat("en-GB", {
        timeZone: name,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
      zone = name;
    } catch (err) {
      parts = null;
      zone = "UTC";
      setZone("UTC");
    }
  }

  // Wall-clock fields of an instant (ms) in the hub's zone.
  function fields(ms) {
    const out = {};
    for (const p of parts.formatToParts(new Date(ms))) out[p.type] = p.value;
    return {
      y: Number(out.year),
      mo: Number(out.month),
      d: Number(out.day),
      h: Number(out.hour) % 24,
      mi: Number(out.minute),
      s: Number(out.second),
    };
  }

  // Minutes the zone is ahead of UTC at the instant ms.
  function offsetMinutes(ms) {
    const f = fields(ms);
    const asUtc = Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s);
    return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
  }

  function fmt(epoch, withSeconds = true) {
    if (epoch === null || epoch === undefined) return "–";
    const f = fields(epoch * 1000);
    const base = `${f.y}-${pad(f.mo)}-${pad(f.d)} ${pad(f.h)}:${pad(f.mi)}`;
    return withSeconds ? `${base}:${pad(f.s)}` : base;
  }

  // "HH:MM" alone when the day is today's (in the hub's zone), else the date too.
  function fmtShort(epoch) {
    if (epoch === null || epoch === undefined) return "–";
    const full = fmt(epoch, false);
    return full.slice(0, 10) === fmt(Date.now() / 1000, false).slice(0, 10) ? full.slice(11) : full;
  }

  const INPUT_RE = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})\s*$/;

  // "YYYY-MM-DD HH:MM" in the hub's zone -> epoch seconds (null if not a valid time).
  function parse(text) {
    const m = INPUT_RE.exec(text || "");
    if (!m) return null;
    const [y, mo, d, h, mi] = m.slice(1).map(Number);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return null;
    const wall = Date.UTC(y, mo - 1, d, h, mi);
    let ms = wall - offsetMinutes(wall) * 60000;
    ms = wall - offsetMinutes(ms) * 60000; // settle across a DST change
    const back = fields(ms);
    if (back.d !== d || back.h !== h || back.mi !== mi) return null; // e.g. 31 Feb, or a skipped hour
    return ms / 1000;
  }

  function toInput(epoch) {
    return fmt(epoch, false);
  }

  function offsetLabel(ms) {
    const off = offsetMinutes(ms);
    const sign = off < 0 ? "−" : "+";
    const abs = Math.abs(off);
    return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  function zoneLabel() {
    return `${zone} (${offsetLabel(Date.now())})`;
  }

  setZone("UTC");
  CS.time = { setZone, fmt, fmtShort, parse, toInput, zoneLabel, zone: () => zone };
})();
