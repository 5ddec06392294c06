# Installation and the Debian package (cpack -G DEB). Included from the top
# CMakeLists.txt after the hubbatch target exists.
include(GNUInstallDirs)

install(TARGETS hubbatch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The man page is installed as it is in the tree, so `man docs/hubbatch.1` in
# a clone shows what the package shows; its .TH line names the version, which
# tests/docs/man_page_test.sh checks against PROJECT_VERSION.
install(FILES ${PROJECT_SOURCE_DIR}/docs/hubbatch.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/docs/hubbatch.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME hubbatch)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.toml")
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME hubbatch)
set(CPACK_PACKAGE_VENDOR "hubbatch")
set(CPACK_PACKAGE_CONTACT "hubbatch maintainers <hubbatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY hubbatch)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/hubbatch/hubbatch")
# Runtime libraries, by their Debian 12 package names (from `dpkg -S` on the
# libraries `ldd hubbatch` lists); tests/packaging/deb_test.sh checks that each
# name is a real package and that every linked library is covered.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6 (>= 2.34), libgcc-s1, libstdc++6 (>= 12), libssl3 (>= 3.0), libsimdjson14, libfmt9, libspdlog1.10, libtomlplusplus3, zlib1g")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion, ca-certificates")
include(CPack)
