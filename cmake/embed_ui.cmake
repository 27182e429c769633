# semantic_embed_ui(target): compiles the web UI in ui/ and the scenario files in scenarios/
# (as "scenarios/<file>.yaml") into `target` as a generated .cpp (build/generated/ui_assets.cpp,
# written by cmake/embed_ui_files.cmake), so an installed binary serves /ui without reading any
# file at run time. Regenerated whenever one of those files changes.
function(semantic_embed_ui target)
  set(ui_dir ${PROJECT_SOURCE_DIR}/ui)
  file(GLOB_RECURSE ui_files CONFIGURE_DEPENDS ${ui_dir}/*.html ${ui_dir}/*.css ${ui_dir}/*.js
       ${ui_dir}/*.svg ${ui_dir}/*.ico ${ui_dir}/*.png ${ui_dir}/*.json ${ui_dir}/*.txt
       ${PROJECT_SOURCE_DIR}/scenarios/*.yaml)
  set(out ${PROJECT_BINARY_DIR}/generated/ui_assets.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DUI_DIR=${ui_dir} -DSCENARIO_DIR=${PROJECT_SOURCE_DIR}/scenarios
            -DOUT=${out}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_ui_files.cmake
    DEPENDS ${ui_files} ${PROJECT_SOURCE_DIR}/cmake/embed_ui_files.cmake
    COMMENT "Embedding ui/ (web UI) into the server"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
