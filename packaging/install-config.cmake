# Run by `cmake --install` (and by cpack): writes config/verbd.toml and
# config/webdav.toml into the installed tree with paths that fit it, since
# their own point into the source tree ("../build/plugins", "../data").
# The prefix is the one given at install time (--prefix), and /etc and /var
# follow it as the GNU conventions say: /usr -> /etc, /var; /opt/NAME ->
# /etc/opt/NAME, /var/opt/NAME; any other PREFIX -> PREFIX/etc, PREFIX/var.
#   Inputs: SOURCE_DIR, LIBDIR (relative to the prefix), CMAKE_INSTALL_PREFIX.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(etc "/etc")
  set(var "/var")
elseif(prefix MATCHES "^/opt/")
  set(etc "/etc${prefix}")
  set(var "/var${prefix}")
else()
  set(etc "${prefix}/etc")
  set(var "${prefix}/var")
endif()
set(plugins "${prefix}/${LIBDIR}/verbd")

foreach(name verbd webdav)
  file(READ "${SOURCE_DIR}/config/${name}.toml" text)
  string(REPLACE "\"../build/plugins-dav\"" "\"${plugins}/plugins-dav\"" text "${text}")
  string(REPLACE "\"../build/plugins\"" "\"${plugins}/plugins\"" text "${text}")
  string(REPLACE "\"../data-dav\"" "\"${var}/lib/verbd-dav\"" text "${text}")
  string(REPLACE "\"../data\"" "\"${var}/lib/verbd\"" text "${text}")
  if(text MATCHES "\"\\.\\./")
    message(FATAL_ERROR "config/${name}.toml names a path in the source tree that install-config.cmake does not map")
  endif()
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${etc}/verbd")
  file(WRITE "$ENV{DESTDIR}${etc}/verbd/${name}.toml" "${text}")
  message(STATUS "Installing: $ENV{DESTDIR}${etc}/verbd/${name}.toml (plugins in ${plugins}, data in ${var}/lib)")
endforeach()
