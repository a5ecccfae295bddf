# cmake/docs_diagrams.cmake — the `docs` target (CMakeLists.txt): each shipped workflow drawn
# by the built `certflow graph` (the readable diagram: self-loops grouped, timers labelled)
# and rendered by Graphviz `dot` into docs/diagrams/<workflow>.svg, which are checked in and
# shown in docs/lifecycles.md. Run with -DCERTFLOW=<the built certflow> -DDOT=<dot>
# -DSOURCE=<the source tree>.
foreach(wf certification complaint employment scholarship supervision)
  execute_process(
    COMMAND ${CERTFLOW} --db :memory: --workflows ${SOURCE}/workflows --policies ${SOURCE}/lua graph ${wf}
    COMMAND ${DOT} -Tsvg -o ${SOURCE}/docs/diagrams/${wf}.svg
    RESULTS_VARIABLE results)
  foreach(rc ${results})
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "drawing ${wf} failed (${results})")
    endif()
  endforeach()
  message(STATUS "docs/diagrams/${wf}.svg")
endforeach()
