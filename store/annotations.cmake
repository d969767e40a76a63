# Readers of the download's annotation and class-list files (CSV and text),
# for the converter. Internal: not installed.
add_library(oiv4kv_annotations STATIC
  ${CMAKE_CURRENT_LIST_DIR}/csv_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/annotation_csv.cc
  ${CMAKE_CURRENT_LIST_DIR}/vocab_files.cc
)
target_link_libraries(oiv4kv_annotations PUBLIC oiv4kv_internal)
