// Starts Swagger UI on /api/docs (a file, not an inline script: the page's CSP allows no
// inline script).  The OpenAPI URL comes from the page's data-openapi-url attribute.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
