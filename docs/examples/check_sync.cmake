# check_sync.cmake — fails unless docs/embedding.md contains docs/examples/embed.c verbatim.
# Run: cmake -DSOURCE=docs/examples/embed.c -DDOC=docs/embedding.md -P check_sync.cmake
file(READ "${SOURCE}" source_text)
file(READ "${DOC}" doc_text)
string(FIND "${doc_text}" "${source_text}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${DOC} does not contain ${SOURCE} verbatim: copy the example into the doc again")
endif()
