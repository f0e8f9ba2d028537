# Writes <name>.mjs beside Emscripten's <name>.js: the same factory as an ES module, so browsers
# can `import()` it without a bundler, eval or a <script> tag (module workers included).
#
#   cmake -DIN=web/dist/onnxfx.js -P web/scripts/es-module-wrapper.cmake
#
# Emscripten's MODULARIZE output declares `var createOnnxfxModule` and then exports it only
# where CommonJS or AMD exist; in a module neither does, so the copy adds a default export.
# pthread workers still load the classic <name>.js (web/src/loader.js passes it as
# mainScriptUrlOrBlob), so both files ship.
if(NOT IN)
  message(FATAL_ERROR "usage: cmake -DIN=<emscripten output .js> -P es-module-wrapper.cmake")
endif()
file(READ "${IN}" body)
string(REGEX REPLACE "\\.js$" ".mjs" out "${IN}")
get_filename_component(name "${IN}" NAME)
file(WRITE "${out}" "// Generated from ${name} by web/scripts/es-module-wrapper.cmake: do not edit.\n${body}\nexport default createOnnxfxModule;\n")
