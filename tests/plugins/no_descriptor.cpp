// A shared library that exports something, but no verbd_plugin descriptor.
extern "C" __attribute__((visibility("default"))) int not_a_verbd_plugin() { return 42; }
