// Live captions behind one small interface, so that another engine (a server-side recogniser, a
// translation service) can take the place of the browser's speech recognition later:
//   createCaptionEngine() → null when captions are impossible here, else
//   { running, start(language, onText(text, final), onFailure()), stop() }
export function createCaptionEngine() {
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  if (!Recognition) return null;
  return new BrowserSpeechCaptions(Recognition);
}

class BrowserSpeechCaptions {
  constructor(Recognition) {
    this.Recognition = Recognition;
    this.running = false;
  }

  start(language, onText, onFailure) {
    const recognition = new this.Recognition();
    recognition.lang = language;
    recognition.continuous = true;
    recognition.interimResults = true;
    recognition.addEventListener("result", (event) => {
      for (let i = event.resultIndex; i < event.results.length; i += 1) {
        const result = event.results[i];
        onText(result[0].transcript, result.isFinal);
      }
    });
    recognition.addEventListener("error", (event) => {
      if (["not-allowed", "service-not-allowed", "network", "language-not-supported"].includes(event.error)) {
        this.running = false;
        onFailure(event.error);
      }
    });
    // Recognition stops by itself after a silence; keep it going while captions are on.
    recognition.addEventListener("end", () => { if (this.running) recognition.start(); });
    this.recognition = recognition;
    this.running = true;
    recognition.start();
  }

  stop() {
    this.running = false;
    this.recognition?.stop();
  }
}
