# certflow's CMake package: find_package(certflow CONFIG REQUIRED) gives certflow::certflow.
include("${CMAKE_CURRENT_LIST_DIR}/certflowTargets.cmake")
