// A real third-party RTSP server for the client tests: GStreamer's gst-rtsp-server serving
// a live test pattern (H.264) and a tone (AAC) at /cam, behind Digest authentication. Given a
// UDP port, it relays the MPEG-TS (H.264 + AAC) that arrives there instead, to every player
// from one shared live pipeline: the fan-out baseline of bench/load/rtsp_fanout.sh.
// Usage: gst_rtsp_server USER PASSWORD [UDP-PORT]  — binds 127.0.0.1 on a free port, prints
// "PORT n".
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s USER PASSWORD [UDP-PORT]\n", argv[0]);
    return 2;
  }
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  GstRTSPServer* server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, "0");

  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  if (argc == 4) {
    // No re-encoding, and live: a file would be seeked back to its start for every player
    // that joins (ffmpeg asks for "npt=0-").
    gchar* launch = g_strdup_printf(
        "( udpsrc address=127.0.0.1 port=%d caps=video/mpegts,systemstream=true ! tsdemux "
        "name=d d. ! video/x-h264 ! queue ! h264parse ! rtph264pay name=pay0 pt=96 "
        "config-interval=-1 d. ! audio/mpeg ! "
        "queue ! aacparse ! rtpmp4gpay name=pay1 pt=97 )",
        std::atoi(argv[3]));
    gst_rtsp_media_factory_set_launch(factory, launch);
    g_free(launch);
  } else {
    gst_rtsp_media_factory_set_launch(
        factory,
        "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
        "framerate=25/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! "
        "rtph264pay name=pay0 pt=96 config-interval=-1 "
        "audiotestsrc is-live=true freq=1000 ! audio/x-raw,rate=48000,channels=1 ! avenc_aac ! "
        "rtpmp4gpay name=pay1 pt=97 )");
  }
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  gst_rtsp_media_factory_add_role(factory, "viewer", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                  G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                  G_TYPE_BOOLEAN, TRUE, nullptr);

  GstRTSPAuth* auth = gst_rtsp_auth_new();
  gst_rtsp_auth_set_supported_methods(auth, GST_RTSP_AUTH_DIGEST);
  GstRTSPToken* token =
      gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "viewer", nullptr);
  gst_rtsp_auth_add_digest(auth, argv[1], argv[2], token);
  gst_rtsp_token_unref(token);
  gst_rtsp_server_set_auth(server, auth);
  g_object_unref(auth);

  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, "/cam", factory);
  g_object_unref(mounts);

  if (gst_rtsp_server_attach(server, nullptr) == 0) {
    std::fprintf(stderr, "cannot listen\n");
    return 1;
  }
  std::printf("PORT %d\n", gst_rtsp_server_get_bound_port(server));
  std::fflush(stdout);
  g_main_loop_run(loop);
  return 0;
}
