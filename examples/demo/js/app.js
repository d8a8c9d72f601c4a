// Shows which version served this page, from the response header.
fetch(location.pathname, { method: "HEAD" }).then((response) => {
  document.getElementById("version").textContent = response.headers.get("x-r2-assets-version") ?? "unknown";
});
