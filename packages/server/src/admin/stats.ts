// Server health for the console: counted in memory on the relay path (one increment per
// message) and written once a minute into stats_hourly.
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../storage/database.js";

const HOUR = 60 * 60 * 1000;

export interface HourFigures {
  hour: number;
  messages: number;
  peakConnected: number;
}

export interface StatsSnapshot {
  people: number;
  devices: number;
  connected: number;
  backlog: number;
  storageBytes: number;
  hours: HourFigures[];
}

export class Stats {
  private hour = Math.floor(Date.now() / HOUR) * HOUR;
  private messages = 0;
  private peak = 0;

  message(): void {
    this.messages++;
  }

  connected(count: number): void {
    if (count > this.peak) this.peak = count;
  }

  /** Writes what was counted since the last flush; call through the write queue. */
  flush(db: Db, connectedNow: number, now = Date.now()): void {
    this.connected(connectedNow);
    if (this.messages > 0 || this.peak > 0) {
      db.prepare(
        `INSERT INTO stats_hourly (hour, messages, peak_connected) VALUES (?, ?, ?)
         ON CONFLICT(hour) DO UPDATE SET messages = messages + excluded.messages,
           peak_connected = max(peak_connected, excluded.peak_connected)`,
      ).run(this.hour, this.messages, this.peak);
    }
    this.messages = 0;
    const hour = Math.floor(now / HOUR) * HOUR;
    if (hour !== this.hour) {
      this.hour = hour;
      this.peak = connectedNow;
    }
  }
}

export function snapshot(db: Db, dataDir: string, connected: number, now = Date.now(), hours = 48): StatsSnapshot {
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const from = Math.floor(now / HOUR) * HOUR - (hours - 1) * HOUR;
  const rows = db
    .prepare("SELECT hour, messages, peak_connected AS peakConnected FROM stats_hourly WHERE hour >= ? ORDER BY hour")
    .all(from) as HourFigures[];
  const byHour = new Map(rows.map((r) => [r.hour, r]));
  const series: HourFigures[] = [];
  for (let h = from; h <= now; h += HOUR) series.push(byHour.get(h) ?? { hour: h, messages: 0, peakConnected: 0 });
  let storageBytes = 0;
  for (const file of ["momedo.sqlite", "momedo.sqlite-wal"]) {
    try {
      storageBytes += statSync(join(dataDir, file)).size;
    } catch {
      // The log file exists only while the database is open for writing.
    }
  }
  return {
    people: count("SELECT count(*) AS n FROM users WHERE removed_at IS NULL"),
    devices: count("SELECT count(*) AS n FROM devices WHERE revoked_at IS NULL"),
    connected,
    backlog: count("SELECT count(*) AS n FROM mailbox"),
    storageBytes,
    hours: series,
  };
}
