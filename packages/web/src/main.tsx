// The app's entry: mounts the shell into #app.
import { render } from "preact";
import { Shell } from "./ui/Shell.js";
import "./ui/shell.css";

render(<Shell />, document.getElementById("app")!);
