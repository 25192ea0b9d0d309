// Background blur: MediaPipe's selfie segmentation (from npm, served from our own origin with its model
// and WebAssembly; never a CDN) separates the person from the background, and a canvas paints the
// person sharp over a blurred copy of the frame. The canvas's stream replaces the camera track.
let loading;

function loadSegmentation(base) {
  // selfie_segmentation.js is a classic script that defines window.SelfieSegmentation.
  loading ??= new Promise((resolve, reject) => {
    if (window.SelfieSegmentation) return resolve(window.SelfieSegmentation);
    const script = document.createElement("script");
    script.src = `${base}selfie_segmentation.js`;
    script.addEventListener("load", () => resolve(window.SelfieSegmentation));
    script.addEventListener("error", () => { loading = null; reject(new Error("segmentation did not load")); });
    document.head.append(script);
  });
  return loading;
}

export async function createBackgroundBlur(cameraTrack, base, { fps = 15, blurPx = 12 } = {}) {
  const SelfieSegmentation = await loadSegmentation(base);
  const segmentation = new SelfieSegmentation({ locateFile: (file) => `${base}${file}` });
  segmentation.setOptions({ modelSelection: 1 });
  const settings = cameraTrack.getSettings();
  const canvas = document.createElement("canvas");
  canvas.width = settings.width || 640;
  canvas.height = settings.height || 480;
  const context = canvas.getContext("2d");
  segmentation.onResults((results) => {
    context.save();
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.drawImage(results.segmentationMask, 0, 0, canvas.width, canvas.height);
    context.globalCompositeOperation = "source-in"; // the person, where the mask is
    context.drawImage(results.image, 0, 0, canvas.width, canvas.height);
    context.globalCompositeOperation = "destination-over"; // the blurred frame behind
    context.filter = `blur(${blurPx}px)`;
    context.drawImage(results.image, 0, 0, canvas.width, canvas.height);
    context.restore();
  });
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([cameraTrack]);
  await video.play();
  await segmentation.initialize();
  let stopped = false, busy = false;
  const timer = setInterval(async () => {
    if (stopped || busy || video.readyState < 2) return;
    busy = true;
    try { await segmentation.send({ image: video }); } catch (error) { console.warn("segmentation", error); }
    busy = false;
  }, 1000 / fps);
  const track = canvas.captureStream(fps).getVideoTracks()[0];
  return {
    track,
    stop() {
      stopped = true;
      clearInterval(timer);
      track.stop();
      video.srcObject = null;
      segmentation.close();
    },
  };
}
