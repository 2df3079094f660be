// A test peer standing for an IP camera with an ONVIF audio back-channel, built on
// GStreamer's own ONVIF RTSP server (GstRTSPOnvifServer): rtsp://127.0.0.1:PORT/cam serves
// a live test picture (H.264); with "Require: www.onvif.org/ver20/backchannel" its SDP adds
// an a=sendonly audio track in CODEC (pcmu, the default; pcma; aac: AAC-LC at 16 kHz; opus),
// and what a client sends on it is decoded and written, as 8 kHz µ-law samples, to OUT_FILE
// for the test to read. Prints "port N" once listening; runs until killed. PORT (0: any free
// one) lets a test bring a camera back where it was.
//   onvif_peer OUT_FILE [PORT [CODEC]]
#include <gst/gst.h>
// These two headers do not declare their functions extern "C" themselves.
extern "C" {
#include <gst/rtsp-server/rtsp-onvif-media-factory.h>
#include <gst/rtsp-server/rtsp-onvif-media.h>
#include <gst/rtsp-server/rtsp-onvif-server.h>
}

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: onvif_peer OUT_FILE [PORT [CODEC]]\n");
    return 2;
  }
  // What the back-channel takes, and how it is decoded to raw audio.
  const std::string codec = argc == 4 ? argv[3] : "pcmu";
  std::string receive;
  if (codec == "pcmu") {
    receive =
        "payload=0, clock-rate=8000, encoding-name=PCMU\" name=depay_backchannel ! "
        "rtppcmudepay ! mulawdec";
  } else if (codec == "pcma") {
    receive =
        "payload=8, clock-rate=8000, encoding-name=PCMA\" name=depay_backchannel ! "
        "rtppcmadepay ! alawdec";
  } else if (codec == "aac") {
    // AAC-LC, 16 kHz, mono: AudioSpecificConfig 00010 1000 0001 000 = 0x1408.
    receive =
        "payload=96, clock-rate=16000, encoding-name=MPEG4-GENERIC, "
        "streamtype=(string)5, profile-level-id=(string)1, mode=(string)AAC-hbr, "
        "config=(string)1408, sizelength=(string)13, indexlength=(string)3, "
        "indexdeltalength=(string)3\" name=depay_backchannel ! rtpmp4gdepay ! aacparse ! "
        "avdec_aac";
  } else if (codec == "opus") {
    receive =
        "payload=96, clock-rate=48000, encoding-name=OPUS\" name=depay_backchannel ! "
        "rtpopusdepay ! opusdec";
  } else {
    std::fprintf(stderr, "onvif_peer: unknown codec %s\n", codec.c_str());
    return 2;
  }
  gst_init(&argc, &argv);
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  GstRTSPServer* server = gst_rtsp_onvif_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, argc >= 3 ? argv[2] : "0");
  GstRTSPMediaFactory* factory = gst_rtsp_onvif_media_factory_new();
  gst_rtsp_media_factory_set_launch(
      factory,
      "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=10/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! "
      "rtph264pay name=pay0 pt=96 config-interval=-1 )");
  // The back-channel: the element named depay_backchannel receives the client's RTP.
  const std::string backchannel =
      "( capsfilter caps=\"application/x-rtp, media=audio, " + receive +
      " ! audioconvert ! audioresample ! audio/x-raw, rate=8000, channels=1 ! mulawenc ! "
      "filesink buffer-mode=unbuffered async=false location=\"" +
      std::string(argv[1]) + "\" )";
  gst_rtsp_onvif_media_factory_set_backchannel_launch(GST_RTSP_ONVIF_MEDIA_FACTORY(factory),
                                                      backchannel.c_str());
  gst_rtsp_onvif_media_factory_set_backchannel_bandwidth(GST_RTSP_ONVIF_MEDIA_FACTORY(factory),
                                                         64000);
  // Each client its own pipeline, made as ONVIF media (which can have a back-channel).
  gst_rtsp_media_factory_set_shared(factory, FALSE);
  gst_rtsp_media_factory_set_media_gtype(factory, GST_TYPE_RTSP_ONVIF_MEDIA);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, "/cam", factory);
  g_object_unref(mounts);
  if (gst_rtsp_server_attach(server, nullptr) == 0) {
    std::fprintf(stderr, "onvif_peer: cannot listen\n");
    return 1;
  }
  std::printf("port %d\n", gst_rtsp_server_get_bound_port(server));
  std::fflush(stdout);
  g_main_loop_run(loop);
  return 0;
}
