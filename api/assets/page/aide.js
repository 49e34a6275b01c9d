/* "Où trouver de l'aide ?" — progressive enhancement of a page that works
   without it: "near me" (the position never leaves the browser: distances
   are computed here from the coordinates already in the page) and the map
   (only when the operator configured a tile server). No request of its own,
   no storage, no cookie. */
(function () {
  'use strict';

  var lang = document.documentElement.lang || 'fr';
  var list = document.getElementById('sites-list');
  var items = list ? Array.prototype.slice.call(list.querySelectorAll('li.site')) : [];
  var map = null;
  var markers = {};
  var here = null;

  function km(value) {
    return value.toLocaleString(lang, { maximumFractionDigits: value < 10 ? 1 : 0 });
  }

  // Great-circle distance in kilometres (as the API's `near`).
  function distance(lat1, lon1, lat2, lon2) {
    var r = Math.PI / 180;
    var dLat = (lat2 - lat1) * r;
    var dLon = (lon2 - lon1) * r;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 6371.0088 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
  }

  function siteName(li) {
    var h = li.querySelector('h4');
    return h ? h.textContent : '';
  }

  /* Near me. */
  var near = document.getElementById('near');
  if (near && list && items.length > 1 && 'geolocation' in navigator && window.isSecureContext) {
    var button = document.getElementById('near-button');
    var status = document.getElementById('near-status');
    near.hidden = false;
    button.addEventListener('click', function () {
      status.textContent = near.getAttribute('data-locating');
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        button.disabled = false;
        var lat = pos.coords.latitude;
        var lon = pos.coords.longitude;
        var sorted = items.map(function (li) {
          var d = distance(lat, lon, parseFloat(li.getAttribute('data-lat')), parseFloat(li.getAttribute('data-lon')));
          var span = li.querySelector('.distance');
          if (span) { span.textContent = near.getAttribute('data-km').replace('{km}', km(d)); }
          return { li: li, d: d };
        }).sort(function (a, b) { return a.d - b.d; });
        sorted.forEach(function (s) { list.appendChild(s.li); });
        items = sorted.map(function (s) { return s.li; });
        var first = sorted[0];
        var when = first.li.querySelector('.dates time');
        var call = first.li.querySelector('.call a');
        var next = when ? near.getAttribute('data-next') + ' ' + when.textContent + '.' : '';
        status.textContent = near.getAttribute('data-sorted')
          .replace('{name}', siteName(first.li))
          .replace('{km}', km(first.d))
          .replace('{next}', next);
        // Where to go next: the nearest one's dates and its team's phone.
        first.li.classList.add('nearest');
        var see = document.createElement('a');
        see.href = '#' + first.li.id;
        see.textContent = near.getAttribute('data-see');
        status.appendChild(document.createTextNode(' '));
        status.appendChild(see);
        if (map) {
          here = [lat, lon];
          showHere();
          var m = markers[first.li.id];
          if (m) { map.fitBounds(window.L.latLngBounds([here, m.getLatLng()]).pad(0.5), { maxZoom: 13 }); }
        }
      }, function () {
        button.disabled = false;
        status.textContent = near.getAttribute('data-denied');
        var select = document.getElementById('dep-permanences');
        if (select) { select.focus(); }
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
  }

  /* The map: the operator's tiles, the sites of the list. */
  var box = document.getElementById('map-box');
  var el = document.getElementById('map');
  var hereMarker = null;
  function showHere() {
    if (!map || !here) { return; }
    if (hereMarker) { hereMarker.setLatLng(here); return; }
    hereMarker = window.L.circleMarker(here, { radius: 7, color: '#1b1b1f', weight: 3, fillColor: '#ffd84d', fillOpacity: 1, interactive: false }).addTo(map);
  }
  if (box && el && window.L && items.length) {
    var L = window.L;
    box.hidden = false;
    map = L.map(el, {
      scrollWheelZoom: false,
      // On a phone one finger scrolls the page, not the map.
      dragging: !L.Browser.mobile,
      tap: false,
      attributionControl: false
    });
    L.control.attribution({ prefix: false }).addTo(map);
    var attribution = document.createElement('span');
    attribution.textContent = el.getAttribute('data-attribution');
    L.tileLayer(el.getAttribute('data-tiles'), {
      maxZoom: 18,
      attribution: attribution.innerHTML,
      referrerPolicy: 'no-referrer',
      crossOrigin: false
    }).addTo(map);
    var bounds = [];
    items.forEach(function (li) {
      var at = [parseFloat(li.getAttribute('data-lat')), parseFloat(li.getAttribute('data-lon'))];
      bounds.push(at);
      var popup = document.createElement('div');
      var link = document.createElement('a');
      link.href = '#' + li.id;
      link.textContent = siteName(li);
      popup.appendChild(link);
      var when = li.querySelector('.dates time');
      if (when) {
        var p = document.createElement('p');
        p.textContent = when.textContent;
        popup.appendChild(p);
      }
      markers[li.id] = L.circleMarker(at, { radius: 9, color: '#5a1470', weight: 2, fillColor: '#b48ac0', fillOpacity: 0.9 })
        .bindPopup(popup)
        .addTo(map);
    });
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 12 });
  }
})();
