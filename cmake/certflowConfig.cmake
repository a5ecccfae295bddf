# certflow's CMake package: find_package(certflow CONFIG REQUIRED) gives certflow::certflow.
include("${CMAKE_CURRENT_LIST_DIR}/certflowTargets.cmake")
# certflow::plugin_api (plugin.h) and certflow_add_plugin() for plugin authors.
include("${CMAKE_CURRENT_LIST_DIR}/CertflowPlugin.cmake")
