# `cmake --install` and `cpack -G DEB`: the installed config files (with
# paths that fit the installed tree), the systemd unit, a welcome page for a
# fresh store, and a Debian package of all of it (server, client, plugins,
# SDK headers and CMake package, config as conffiles).
#
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DVERBD_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build-deb && (cd build-deb && cpack -G DEB)
# (cpack -D CPACK_PACKAGING_INSTALL_PREFIX=/usr packs any build for /usr.)
install(CODE "set(SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
include(\"${PROJECT_SOURCE_DIR}/packaging/install-config.cmake\")")
install(FILES packaging/verbd.service DESTINATION lib/systemd/system)
install(FILES packaging/index.html DESTINATION ${CMAKE_INSTALL_DATADIR}/verbd)
install(FILES README.md packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Debian wants the changelog compressed, without a timestamp in the gzip
# header, and named changelog.gz in a package that is its own upstream.
set(changelog_gz ${CMAKE_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${changelog_gz}
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/changelog > ${changelog_gz}
  DEPENDS packaging/changelog)
add_custom_target(debian_changelog ALL DEPENDS ${changelog_gz})
install(FILES ${changelog_gz} DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME verbd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "HTTP/1.1 server whose request methods are plugins")
set(CPACK_PACKAGE_DESCRIPTION
  "verbd serves HTTP/1.1 and HTTPS with every request method a plugin: GET,\nHEAD, POST, PUT, DELETE and the WebDAV methods are shared libraries loaded\nfrom a folder, replaceable while it runs. With the client verb, and the SDK\nto write plugins.")
set(CPACK_PACKAGE_CONTACT "verbd maintainers <verbd@users.noreply.github.com>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")  # for [store] backend = "redis"
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/conffiles ${PROJECT_SOURCE_DIR}/packaging/postinst
  ${PROJECT_SOURCE_DIR}/packaging/prerm ${PROJECT_SOURCE_DIR}/packaging/postrm)
include(CPack)
