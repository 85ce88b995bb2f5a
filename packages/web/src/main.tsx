// The app's entry: registers the service worker (offline, push) and mounts the messenger into #app.
import { render } from "preact";
import { registerServiceWorker } from "./pwa.js";
import { App } from "./ui/App.js";
import "./ui/app.css";

registerServiceWorker();
render(<App />, document.getElementById("app")!);
