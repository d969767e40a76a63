# The Python interpreter the module is built for and its tests run with.
#
# -DPython3_EXECUTABLE=/path/to/python3 decides (setup.py passes the
# interpreter pip runs; scripts/test.sh passes Debian's /usr/bin/python3, the
# one scripts/setup.sh installs python3-numpy, -pytest and -torch into).
# Otherwise: the first `python3` on PATH that can import numpy (the module's
# arrays) and, when the tests are built, pytest, so that a python earlier on
# PATH without them (pyenv's shim on some machines) is passed over rather than
# giving a module its tests cannot load. If no python3 on PATH has them,
# FindPython3's own choice, with a warning.
if(NOT DEFINED Python3_EXECUTABLE)
  set(_oiv4kv_python_needs numpy)
  if(OIV4KV_BUILD_TESTS)
    list(APPEND _oiv4kv_python_needs pytest)
  endif()
  list(JOIN _oiv4kv_python_needs ", " _oiv4kv_python_imports)
  function(_oiv4kv_python_has_modules result candidate)
    execute_process(COMMAND "${candidate}" -c "import ${_oiv4kv_python_imports}"
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(NOT rc EQUAL 0)
      set(${result} FALSE PARENT_SCOPE)
    endif()
  endfunction()
  find_program(_oiv4kv_python NAMES python3
               VALIDATOR _oiv4kv_python_has_modules NO_CACHE)
  if(_oiv4kv_python)
    set(Python3_EXECUTABLE "${_oiv4kv_python}" CACHE FILEPATH
        "The Python the oiv4kv module is built for (first python3 on PATH with ${_oiv4kv_python_imports})")
  else()
    message(WARNING "oiv4kv: no python3 on PATH imports ${_oiv4kv_python_imports}; "
            "using FindPython3's choice (pass -DPython3_EXECUTABLE=...)")
  endif()
endif()
find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
message(STATUS "oiv4kv: Python module for ${Python3_EXECUTABLE} (${Python3_VERSION})")
