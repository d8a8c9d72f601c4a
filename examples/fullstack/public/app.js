// A tiny single-page application: client-side routes, data from the
// project's server code under /api.
const views = {
  "/": { title: "Home", load: () => fetch("/api/hello").then((r) => r.json()).then((d) => d.message) },
  "/notes": { title: "Notes", load: loadNotes },
  "/about": { title: "About", load: async () => "Assets from R2, server code in a Dynamic Worker." },
};

async function loadNotes() {
  const notes = await fetch("/api/notes").then((r) => r.json());
  document.getElementById("notes").innerHTML = notes.map((note) => `<li>${note.title}</li>`).join("");
  return `${notes.length} notes`;
}

async function render() {
  const view = views[location.pathname] ?? { title: "Not found", load: async () => `No page at ${location.pathname}` };
  document.getElementById("title").textContent = view.title;
  document.getElementById("notes").innerHTML = "";
  document.getElementById("message").textContent = await view.load();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (link) {
    event.preventDefault();
    history.pushState(null, "", link.getAttribute("href"));
    render();
  }
});
window.addEventListener("popstate", render);
render();
