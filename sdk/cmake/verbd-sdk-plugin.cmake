# verbd_add_plugin(<method> <source>...): a verbd plugin, <method>.so, as the
# host expects it: a module with no "lib" prefix, only its descriptor exported.
function(verbd_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE verbd::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
