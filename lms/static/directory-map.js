/* Draws the directory's results on a Leaflet map. The list on the page stays the primary content: without this
   script, without tiles or without a tile server configured, the page is simply the list. Names are put into the
   popups as text (textContent), never as HTML. */
(function () {
  "use strict";
  var el = document.getElementById("directory-map");
  if (!el || !window.L) { return; }
  var tiles = el.getAttribute("data-tile-url");
  if (!tiles) { return; }
  var items = document.querySelectorAll(".directory-results [data-lat][data-lon]");
  if (!items.length) { return; }
  el.hidden = false;
  var map = window.L.map(el, { scrollWheelZoom: false });
  window.L.tileLayer(tiles, { maxZoom: 18, attribution: el.getAttribute("data-attribution") || "" }).addTo(map);
  var points = [];
  function popup(title, detail) {
    var box = document.createElement("div");
    var strong = document.createElement("strong");
    strong.textContent = title;
    box.appendChild(strong);
    if (detail) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(detail));
    }
    return box;
  }
  var oLat = parseFloat(el.getAttribute("data-origin-lat"));
  var oLon = parseFloat(el.getAttribute("data-origin-lon"));
  if (isFinite(oLat) && isFinite(oLon)) {
    window.L.circleMarker([oLat, oLon], { radius: 5, color: "#333", fillOpacity: 0.2 })
      .addTo(map).bindPopup(popup("Search centre", el.getAttribute("data-origin-label")));
    points.push([oLat, oLon]);
  }
  Array.prototype.forEach.call(items, function (item) {
    var lat = parseFloat(item.getAttribute("data-lat"));
    var lon = parseFloat(item.getAttribute("data-lon"));
    if (!isFinite(lat) || !isFinite(lon)) { return; }
    window.L.circleMarker([lat, lon], { radius: 8, color: "#1d3557", fillOpacity: 0.6 })
      .addTo(map).bindPopup(popup(item.getAttribute("data-name"), item.getAttribute("data-place")));
    points.push([lat, lon]);
  });
  map.fitBounds(points, { padding: [24, 24], maxZoom: 11 });
}());
