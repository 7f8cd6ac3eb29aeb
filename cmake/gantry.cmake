# Helpers shared by the module CMakeLists.

set(GANTRY_OBJECT_LIBS "" CACHE INTERNAL "")

# gantry_module(NAME [DEPS mod...] [LIBS target...])
# Declares object library gantry_<NAME> from src/lib/<NAME>/*.c.
function(gantry_module name)
  cmake_parse_arguments(M "" "" "DEPS;LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  add_library(gantry_${name} OBJECT ${srcs})
  target_include_directories(gantry_${name}
    PUBLIC ${CMAKE_SOURCE_DIR}/include
    PRIVATE ${CMAKE_SOURCE_DIR}/src/common ${CMAKE_SOURCE_DIR}/src/lib)
  target_compile_definitions(gantry_${name} PRIVATE GANTRY_BUILDING_LIB)
  foreach(d IN LISTS M_DEPS)
    target_link_libraries(gantry_${name} PUBLIC gantry_${d})
  endforeach()
  foreach(l IN LISTS M_LIBS)
    target_link_libraries(gantry_${name} PUBLIC ${l})
  endforeach()
  set(GANTRY_OBJECT_LIBS ${GANTRY_OBJECT_LIBS} gantry_${name} CACHE INTERNAL "")
endfunction()

# gantry_unit_test(NAME mod...): tests/unit/NAME.c linked against the
# object libraries of the listed modules (internal symbols visible).
function(gantry_unit_test name)
  if(NOT GANTRY_TESTS)
    return()
  endif()
  add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/unit/${name}.c)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src/common
    ${CMAKE_SOURCE_DIR}/src/lib ${CMAKE_SOURCE_DIR}/tests/unit)
  target_compile_definitions(${name} PRIVATE GANTRY_BUILDING_LIB)
  foreach(m IN LISTS ARGN)
    target_link_libraries(${name} PRIVATE gantry_${m})
  endforeach()
  target_link_libraries(${name} PRIVATE PkgConfig::CMOCKA)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES
    ENVIRONMENT "GANTRY_TEST_TMP=${CMAKE_BINARY_DIR}/tmp")
endfunction()
