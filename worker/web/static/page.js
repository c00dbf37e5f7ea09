// henrei: the page's only script (no inline scripts: the CSP forbids them).
// Drag-and-drop of files or a folder onto the upload area; "select all" in the work list.
"use strict";
(function () {
  function readEntries(entry, out) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (f) { out.push(f); resolve(); }, function () { resolve(); });
      } else if (entry.isDirectory) {
        var reader = entry.createReader(), all = [];
        var next = function () {
          reader.readEntries(function (batch) {
            if (!batch.length) {
              Promise.all(all.map(function (e) { return readEntries(e, out); })).then(resolve);
            } else { all = all.concat(Array.prototype.slice.call(batch)); next(); }
          }, function () { resolve(); });
        };
        next();
      } else { resolve(); }
    });
  }
  function show(files) {
    var chosen = document.getElementById("chosen");
    if (!chosen) return;
    chosen.textContent = files.length ? files.length + " 件のファイル: " +
      Array.prototype.map.call(files, function (f) { return f.name; }).slice(0, 8).join("、") +
      (files.length > 8 ? " ほか" : "") : "選ばれたファイルはありません";
  }
  function setFiles(files) {
    var input = document.getElementById("file-input"), dt = new DataTransfer();
    files.forEach(function (f) { dt.items.add(f); });
    input.files = dt.files;
    var folder = document.getElementById("folder-input");
    if (folder) folder.value = "";
    show(input.files);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var drop = document.getElementById("drop");
    if (drop) {
      ["dragenter", "dragover"].forEach(function (t) {
        drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
      });
      ["dragleave", "drop"].forEach(function (t) {
        drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
      });
      drop.addEventListener("drop", function (e) {
        var items = e.dataTransfer.items, out = [], waits = [];
        if (items && items.length && items[0].webkitGetAsEntry) {
          for (var i = 0; i < items.length; i++) {
            var entry = items[i].webkitGetAsEntry();
            if (entry) waits.push(readEntries(entry, out));
          }
          Promise.all(waits).then(function () { setFiles(out); });
        } else { setFiles(Array.prototype.slice.call(e.dataTransfer.files)); }
      });
      ["file-input", "folder-input"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) el.addEventListener("change", function () { show(el.files); });
      });
    }
  });
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "select-all") {
      document.querySelectorAll("input.pick").forEach(function (c) { c.checked = e.target.checked; });
    }
  });
})();
