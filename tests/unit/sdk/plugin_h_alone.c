/* <verbd/plugin.h> compiles on its own, as C. */
#include <verbd/plugin.h>

int verbd_sdk_c_header_size(void) { return (int)sizeof(verbd_plugin_descriptor); }
