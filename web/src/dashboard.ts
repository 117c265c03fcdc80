import "./dashboard/dashboard.css";
import "./dashboard/main";
