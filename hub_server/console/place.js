/* Connect Share officer console: placing a new incident on the map.
 *
 * A click or a drag of the pin sets the centre, Shift + wheel over the map (or the slider,
 * or the wheel over it) the radius; the city's geocoder, when configured, finds an address.
 * The latitude/longitude fields stay the truth: typing there moves the pin.
 */
"use strict";

(() => {
  const CS = (window.ConnectShare = window.ConnectShare || {});

  CS.placing = (ui) => {
    const { $, el, clear, show, api, act, ApiError, state, fmtMeters, tilesFailed } = ui;

    const RADIUS_MIN = 25;
    const RADIUS_STEP = 25;

    function placeValues() {
      const lat = Number($("inc-lat").value);
      const lon = Number($("inc-lon").value);
      const radius = Number($("inc-radius").value) || 300;
      const given = $("inc-lat").value !== "" && $("inc-lon").value !== "" && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
      return { given, lat, lon, radius_m: radius };
    }

    async function openPlacing() {
      show($("place-panel"), true);
      show($("no-incident"), false);
      show($("incident-detail"), false);
      if (!state.nearby.length) {
        state.nearby = (await api("GET", "/api/v1/cameras?limit=5000").catch(() => ({ cameras: [] }))).cameras;
      }
      if (!state.placeMap) {
        state.placeMap = new CS.CameraMap($("place-map"), state.config, {
          click: (p) => placeAt(p.lat, p.lng),
          drag: (p) => placeAt(p.lat, p.lng),
          radius: (steps) => setRadius(Number($("inc-radius").value) - steps * RADIUS_STEP),
          toggle: () => {},
          tilesFailed: tilesFailed,
        });
      }
      state.placeMap.refresh();
      drawPlacing(true);
    }

    function closePlacing() {
      show($("place-panel"), false);
      show($("incident-detail"), Boolean(state.incident));
      show($("no-incident"), !state.incident);
      if (state.map) state.map.refresh();
    }

    function placeAt(lat, lon) {
      $("inc-lat").value = lat.toFixed(6);
      $("inc-lon").value = lon.toFixed(6);
      drawPlacing(false);
    }

    function setRadius(metres) {
      const r = Math.max(RADIUS_MIN, Math.min(5000, Math.round(metres / RADIUS_STEP) * RADIUS_STEP));
      $("inc-radius").value = String(r);
      $("inc-radius-range").value = String(Math.min(r, Number($("inc-radius-range").max)));
      drawPlacing(false);
    }

    // The placing map: the circle where the incident would be, the shared cameras it holds.
    function drawPlacing(fit) {
      if (!state.placeMap || $("place-panel").hidden) return;
      const place = placeValues();
      let centre = place;
      if (!place.given) {
        // Nothing placed yet: centre on the shared cameras (or the last incident).
        const known = state.nearby.filter((c) => c.lat !== null);
        const ref = state.incident || (known.length ? { lat: known[0].lat, lon: known[0].lon } : { lat: 0, lon: 0 });
        centre = { lat: ref.lat, lon: ref.lon, radius_m: place.radius_m };
      }
      const inside = state.nearby.filter(
        (c) => c.lat !== null && CS.geo.distance(centre.lat, centre.lon, c.lat, c.lon) <= centre.radius_m,
      );
      state.placeMap.show(centre, place.given ? inside : [], state.nearby, new Set(), fit);
      $("place-panel").dataset.placed = place.given ? "1" : "";
      $("place-caption").textContent = place.given
        ? `${inside.length} shared camera(s) within ${fmtMeters(centre.radius_m)}`
        : "click the map to place it";
    }

    // Address search through the city's Nominatim-compatible geocoder (off by default).
    async function onGeocode(event) {
      event.preventDefault();
      const q = $("geo-q").value.trim();
      const list = clear($("geo-results"));
      if (!q || !state.config.geocoder_url) return;
      await act($("geo-search"), async () => {
        const url = new URL(state.config.geocoder_url, location.href);
        url.searchParams.set("q", q);
        url.searchParams.set("format", "jsonv2");
        url.searchParams.set("limit", "5");
        let found;
        try {
          const response = await fetch(url.href, { headers: { Accept: "application/json" }, credentials: "omit", cache: "no-store" });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          found = await response.json();
        } catch (err) {
          throw new ApiError(0, "geocoder", `The address search does not answer (${err.message}); type coordinates instead.`);
        }
        const hits = (Array.isArray(found) ? found : []).filter((h) => Number.isFinite(Number(h.lat)) && Number.isFinite(Number(h.lon)));
        show(list, true);
        if (!hits.length) list.append(el("li", { class: "muted", text: "No match." }));
        for (const hit of hits) {
          list.append(
            el(
              "li",
              {},
              el("button", {
                type: "button",
                class: "geo-hit",
                text: String(hit.display_name || `${hit.lat}, ${hit.lon}`),
                onclick: () => {
                  placeAt(Number(hit.lat), Number(hit.lon));
                  state.placeMap.show(placeValues(), [], state.nearby, new Set(), true);
                  drawPlacing(false);
                  show(list, false);
                },
              }),
            ),
          );
        }
      });
    }

    function bind() {
      $("new-incident-box").addEventListener("toggle", () => {
        if ($("new-incident-box").open) openPlacing().catch(ui.report);
        else closePlacing();
      });
      for (const id of ["inc-lat", "inc-lon"]) $(id).addEventListener("input", () => drawPlacing(true));
      $("inc-radius").addEventListener("input", () => {
        $("inc-radius-range").value = $("inc-radius").value;
        drawPlacing(false);
      });
      $("inc-radius-range").addEventListener("input", () => setRadius(Number($("inc-radius-range").value)));
      $("inc-radius-range").addEventListener(
        "wheel",
        (e) => {
          e.preventDefault();
          setRadius(Number($("inc-radius").value) - Math.sign(e.deltaY) * RADIUS_STEP);
        },
        { passive: false },
      );
      $("geo-form").addEventListener("submit", onGeocode);
    }

    return { bind };
  };
})();
