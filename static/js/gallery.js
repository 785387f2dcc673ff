// Product gallery: clicking a thumbnail swaps the large image without a page load.
// Without JavaScript each thumbnail is a link to the same page showing that image.
(function () {
  document.querySelectorAll("[data-gallery]").forEach(function (gallery) {
    var main = gallery.querySelector("[data-gallery-main]");
    if (!main) return;
    gallery.querySelectorAll("a[data-large]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        main.src = link.getAttribute("data-large");
        gallery.querySelectorAll("a[data-large]").forEach(function (other) {
          other.classList.remove("active");
          other.removeAttribute("aria-current");
        });
        link.classList.add("active");
        link.setAttribute("aria-current", "true");
      });
    });
  });
})();
