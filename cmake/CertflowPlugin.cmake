# CertflowPlugin.cmake — certflow_add_plugin(), to build a certflow plugin (*.so).
#
#   certflow_add_plugin(<target> <source>... [OUTPUT_NAME <name>] [OUTPUT_DIRECTORY <dir>])
#
# Builds <target> as a MODULE library named <name>.so (default: <target>.so, no
# "lib" prefix) that sees only include/certflow/plugin.h (through the
# certflow::plugin_api target), is compiled with hidden visibility (only the two
# CF_PLUGIN_EXPORT functions are exported), and never links against libcertflow:
# a plugin reaches the engine through the host table alone. Undefined symbols are
# a link error, so a plugin that calls the engine's API fails to build rather than
# to load. With CERTFLOW_SANITIZE on, the plugin gets the same sanitizer flags as
# the engine that loads it.
#
# In certflow's own build this file is included by the top CMakeLists.txt; an
# installed certflow provides it through find_package(certflow).
include_guard(GLOBAL)

function(certflow_add_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 CFP "" "OUTPUT_NAME;OUTPUT_DIRECTORY" "")
  set(sources ${CFP_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "certflow_add_plugin(${target}): give at least one source file")
  endif()
  if(NOT TARGET certflow::plugin_api)
    message(FATAL_ERROR "certflow_add_plugin: certflow::plugin_api is unknown; call find_package(certflow) first")
  endif()
  add_library(${target} MODULE ${sources})
  target_link_libraries(${target} PRIVATE certflow::plugin_api)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(CFP_OUTPUT_NAME)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${CFP_OUTPUT_NAME})
  endif()
  if(CFP_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CFP_OUTPUT_DIRECTORY})
  endif()
  if(CERTFLOW_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  elseif(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${target} PRIVATE "LINKER:-z,defs")
  endif()
endfunction()
