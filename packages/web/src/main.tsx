// The app's entry: mounts the messenger into #app.
import { render } from "preact";
import { App } from "./ui/App.js";
import "./ui/app.css";

render(<App />, document.getElementById("app")!);
